// The applicant's own application (SPEC M1), opened by the mailed link #/application/{id}/{token}:
// its status, the assigned test to take once, then the score. No sign-in: the token is the key.
//
// The token never leaves this tab but in the `Application-Token` header: the page moves it from
// the address into the tab's sessionStorage at once (so it is in no history entry, bookmark or
// screenshot of the address bar, and a reload still works), and it is never put in a query.

import { h, show, busyForm, problem, notice, named } from '../dom.js';
import { send, ApiError } from '../http.js';
import { timestamp } from '../format.js';

const KEY = (id) => `ates.application.${id}`;

const STATUS = {
  new: (kind) => (kind === 'worker'
    ? 'Received. A manager will give you a short test; we mail you when it is ready.'
    : 'Received. We mail you once it is decided.'),
  test: () => 'Your test is ready below. Submit it once, before the deadline.',
  check: () => 'Your test is in. A manager decides next; we mail you the decision.',
  accepted: () => 'Accepted: welcome to UberPopug! Sign in with a code mailed to this address.',
  declined: () => 'Declined. The reason is in the mail we sent you.',
};

function call(method, id, token, body) {
  return send(method, `/hiring/applications/${encodeURIComponent(id)}${body ? '/answers' : ''}`,
    { headers: { 'application-token': token }, body });
}

/** What a refusal means to the applicant, under the API's own words. */
function refusal(error) {
  const hint = error instanceof ApiError && {
    401: 'This link has expired. Apply again with the same address and kind: we mail you a new one.',
    404: 'This link opens no application. Check it against the newest mail we sent you.',
    409: 'The test cannot be taken any more (submitted already, or past its deadline). Reload to see where it stands.',
  }[error.status];
  return [problem(error), hint ? h('p', null, hint) : null];
}

export async function render(main, { params }) {
  const { id } = params;
  if (params.token) {
    sessionStorage.setItem(KEY(id), params.token);
    history.replaceState(null, '', `#/application/${encodeURIComponent(id)}`);
  }
  const heading = h('h1', null, 'Your application');
  const body = h('div', { 'aria-live': 'polite' });
  show(main, heading, body);

  function askForToken() {
    // Opened without the mailed link (another tab, say): the mail gives the token to paste too.
    const input = h('input', { name: 'token', required: true, autocomplete: 'off', size: 48 });
    const out = h('div', { 'aria-live': 'polite' });
    const form = busyForm(h('form', { 'aria-label': 'Open my application' },
      h('label', null, 'The token from the mail', input),
      h('button', { type: 'submit' }, 'Open')), out, async (data) => {
      const token = data.get('token').trim();
      const view = await call('GET', id, token);
      sessionStorage.setItem(KEY(id), token);
      describe(view, token);
    });
    show(body, h('p', null, 'Follow the link in the mail we sent you, or paste the token it gives.'), form, out);
  }

  function describe(view, token, submitted = false) {
    const facts = [
      ['Applied as', view.kind],
      ['Status', h('strong', { 'data-testid': 'application-status', 'data-status': view.status }, view.status)],
      view.deadline ? ['Deadline', h('time', { datetime: view.deadline, 'data-testid': 'deadline' }, timestamp(view.deadline))] : null,
      view.score != null ? ['Score', h('span', { 'data-testid': 'application-score' },
        `${view.score} of ${view.max_score}`, view.passed ? ': passed' : ': below the pass mark')] : null,
    ].filter(Boolean);
    show(body,
      submitted ? notice('Submitted. Your answers are scored.') : null,
      h('p', null, (STATUS[view.status] ?? (() => view.status))(view.kind)),
      h('table', null, h('caption', null, 'Your application'), h('tbody', null,
        facts.map(([k, v]) => h('tr', null, h('th', { scope: 'row' }, k), h('td', null, v))))),
      view.status === 'accepted' ? h('p', null, h('a', { href: '#/sign-in' }, 'Sign in')) : null,
      view.test ? testForm(view, token) : null);
  }

  function testForm(view, token) {
    const out = h('div', { 'aria-live': 'polite' });
    const questions = view.test.questions;
    const form = busyForm(h('form', { class: 'stack test', 'aria-labelledby': 'the-test' },
      h('h2', { id: 'the-test' }, 'The test'),
      h('p', null, `${questions.length} question(s). Tick every option you think right: a question may have more than one, `
        + 'and a wrong tick scores the question nothing.'),
      questions.map((q, i) => h('fieldset', { 'data-question-id': q.question_id },
        h('legend', null, named(`${i + 1}. ${q.text}`)),
        q.options.map((o) => h('label', { class: 'inline' },
          h('input', { type: 'checkbox', name: q.question_id, value: o.option_id }), named(o.text))))),
      h('button', { type: 'submit' }, 'Submit my answers')), out, async (data) => {
      const answers = questions.map((q) => ({ question_id: q.question_id, option_ids: data.getAll(q.question_id) }));
      try {
        describe(await call('POST', id, token, { answers }), token, true);
      } catch (error) {
        show(out, refusal(error));
      }
    });
    return h('section', null, form, out);
  }

  const token = sessionStorage.getItem(KEY(id));
  if (!token) return askForToken();
  try {
    describe(await call('GET', id, token), token);
  } catch (error) {
    show(body, refusal(error));
    if (error instanceof ApiError && (error.status === 401 || error.status === 404)) {
      sessionStorage.removeItem(KEY(id));
    }
  }
}
