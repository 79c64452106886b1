// Applications (SPEC M1), for managers and admins: the list by status, kind and submission dates;
// one application with its paper and scored answers; giving a test, accepting and declining.

import { h, show, busyForm, field, pagedTable, problem, notice, clipped, named } from '../dom.js';
import { get, post, put, query } from '../api.js';
import { timestamp, idTail } from '../format.js';

const STATUSES = ['new', 'test', 'check', 'accepted', 'declined'];
const KINDS = ['worker', 'client', 'manager'];
const LEVELS = ['junior', 'middle', 'senior'];

/** Who decides an application of `kind` (M1): admins decide managers; managers the rest. */
export function decides(role, kind) {
  return kind === 'manager' ? role === 'admin' : role === 'manager' || role === 'admin';
}

function score(s) {
  if (!s) return h('span', { class: 'muted' }, '—');
  return h('span', { class: s.passed ? 'pos' : 'neg', title: s.passed ? 'passed' : 'below the pass mark' },
    `${s.score} of ${s.max_score}${s.passed ? ', passed' : ', failed'}`);
}

function when(iso) {
  return iso ? h('time', { datetime: iso }, timestamp(iso)) : h('span', { class: 'muted' }, '—');
}

/** Every entry of a bank listing (`questions`, `tests`, `profiles`), following its cursor. */
export async function everything(path, key) {
  const all = [];
  let cursor = null;
  for (let pages = 0; pages < 50; pages += 1) {
    const page = await get(path + query({ limit: 100, cursor }));
    all.push(...page[key]);
    cursor = page.next_cursor;
    if (!cursor) break;
  }
  return all;
}

export async function render(main, { query: params, go }) {
  // The filter lives in the address (#/hiring?status=check&kind=worker): back and reload keep it.
  const chosen = {
    status: STATUSES.includes(params.get('status')) ? params.get('status') : 'new',
    kind: KINDS.includes(params.get('kind')) ? params.get('kind') : '',
    from: params.get('from') ?? '',
    to: params.get('to') ?? '',
  };
  const out = h('div', { 'aria-live': 'polite' });
  const form = busyForm(h('form', { 'aria-label': 'Filter applications' },
    field('Status', h('select', { name: 'status' }, STATUSES.map((s) => h('option', { value: s, selected: s === chosen.status }, s)))),
    field('Kind', h('select', { name: 'kind' }, h('option', { value: '' }, 'any'),
      KINDS.map((k) => h('option', { value: k, selected: k === chosen.kind }, k)))),
    field('Submitted from', h('input', { name: 'from', type: 'date', value: chosen.from })),
    field('Submitted to', h('input', { name: 'to', type: 'date', value: chosen.to })),
    h('button', { type: 'submit' }, 'Show')), out, async (data) => {
    // Dates only when set: the list opens on all dates, and `query` drops empty values.
    go(`/hiring${query({ status: data.get('status'), kind: data.get('kind'), from: data.get('from'), to: data.get('to') })}`);
  });
  const dated = chosen.from || chosen.to;
  const dates = dated ? `submitted ${chosen.from || '…'} to ${chosen.to || '…'}` : 'all dates';
  const table = pagedTable({
    caption: `Applications in ${chosen.status}${chosen.kind ? `, ${chosen.kind}s` : ''}, ${dates}, newest first`,
    empty: `No ${chosen.kind ? `${chosen.kind} ` : ''}applications in ${chosen.status}${dated ? ' submitted in those dates' : ''}.`,
    columns: [
      { title: 'Name', cell: (a) => clipped(a.full_name, { href: `#/hiring/applications/${a.application_id}`, 'data-application-id': a.application_id }, 'a') },
      { title: 'Email', cell: (a) => clipped(a.email) },
      { title: 'Kind', cell: (a) => a.kind },
      { title: 'Status', cell: (a) => a.status },
      { title: 'Score', cell: (a) => score(a.score) },
      { title: 'Submitted', cell: (a) => when(a.submitted_at) },
    ],
    load: async (cursor) => {
      const page = await get(`/hiring/applications${query({ ...chosen, limit: 50, cursor })}`);
      return { rows: page.applications, next: page.next_cursor };
    },
  });
  show(main, h('h1', null, 'Applications'),
    h('p', null, 'Anyone applies at ', h('a', { href: '#/apply' }, 'the application form'),
      '. Managers decide workers and clients; admins decide managers.'),
    form,
    dated ? h('p', null, h('a', { href: `#/hiring${query({ status: chosen.status, kind: chosen.kind })}` }, 'All dates')) : null,
    out, table);
  await table.ready;
}

/** One application (#/hiring/applications/:id): what it is, its paper, and what may be done. */
export const review = {
  async render(main, { params, claims }) {
    const path = `/hiring/applications/${encodeURIComponent(params.id)}`;
    const heading = h('h1', null, 'An application');
    const body = h('div');
    const out = h('div', { 'aria-live': 'polite', 'data-testid': 'review-out' });
    show(main, h('p', null, h('a', { href: '#/hiring' }, '← Applications')), heading, out, body);
    let application;
    try {
      application = await get(`${path}/review`);
    } catch (error) {
      show(body, problem(error));
      return;
    }
    await describe(application);

    async function describe(a, said = null) {
      heading.textContent = a.full_name;
      heading.title = a.full_name;
      show(out, said ? notice(said) : null);
      const facts = [
        ['Email', clipped(a.email)],
        ['Applied as', a.kind],
        ['Status', h('strong', { 'data-testid': 'review-status', 'data-status': a.status }, a.status)],
        ['Submitted', when(a.submitted_at)],
        a.assigned_at ? ['Test given', h('span', null, when(a.assigned_at), ` by account ${idTail(a.assigned_by)}`)] : null,
        a.deadline ? ['Deadline', when(a.deadline)] : null,
        a.answered_at ? ['Answered', when(a.answered_at)] : null,
        a.score ? ['Score', h('span', { 'data-testid': 'review-score' }, score(a.score))] : null,
        a.decided_at ? ['Decided', h('span', null, when(a.decided_at),
          a.decided_by ? ` by account ${idTail(a.decided_by)}` : ' by the deadline (no answers in time)')] : null,
        a.decline_reason ? ['Reason', h('span', { class: 'wrap', 'data-testid': 'decline-reason' }, a.decline_reason)] : null,
      ].filter(Boolean);
      show(body,
        h('table', null, h('caption', null, `Application ${idTail(a.application_id)}, version ${a.version}`), h('tbody', null,
          facts.map(([k, v]) => h('tr', null, h('th', { scope: 'row' }, k), h('td', null, v))))),
        await actions(a),
        a.paper ? paper(a) : null);
    }

    /** The act buttons, each only where the API would allow it (status, kind and role). */
    async function actions(a) {
      const mine = decides(claims.role, a.kind);
      const undecided = a.status === 'new' || a.status === 'check';
      const parts = [];
      if (a.kind === 'worker' && a.status === 'new') parts.push(await giveTest(a));
      if (mine && a.status === (a.kind === 'worker' ? 'check' : 'new')) parts.push(accept(a));
      if (mine && undecided) parts.push(decline(a));
      if (!mine && undecided) parts.push(notice('Only admins decide manager applications.'));
      if (a.status === 'test') parts.push(h('p', null, 'The applicant is taking the test; it can be decided once it is in (or declined by its deadline).'));
      const decide = parts.length ? h('section', { 'aria-labelledby': 'decide' }, h('h2', { id: 'decide' }, 'Decide'), parts) : null;
      const hired = a.status === 'accepted' && a.kind === 'worker' && a.account_id;
      return h('div', null, decide, hired ? await skills(a.account_id) : null);
    }

    /** A hired worker's skills and level, as matching reads them (Worker.ProfileSet), changed here. */
    async function skills(account) {
      const profilePath = `/hiring/workers/${account}/profile`;
      const section = h('section', { 'aria-labelledby': 'skills' }, h('h2', { id: 'skills' }, 'Skills and level'));
      let profile;
      try {
        profile = await get(profilePath);
      } catch (error) {
        section.append(problem(error));
        return section;
      }
      const said = h('div', { 'aria-live': 'polite', 'data-testid': 'skills-out' });
      let key = crypto.randomUUID();
      const form = h('form', { 'aria-label': 'Skills and level' },
        field('Skills of the worker (comma-separated tags)', h('input', { name: 'skills', required: true, size: 30, value: profile.skills.join(', ') })),
        field('Level of the worker', h('select', { name: 'level', required: true }, LEVELS.map((l) =>
          h('option', { value: l, selected: l === profile.level }, l)))),
        h('button', { type: 'submit' }, 'Save skills'));
      form.addEventListener('input', () => { key = crypto.randomUUID(); });
      busyForm(form, said, async (data) => {
        const body = { skills: data.get('skills').split(/[\s,]+/).filter(Boolean), level: data.get('level') };
        const saved = await put(profilePath, body, { headers: { 'idempotency-key': key } });
        show(said, notice(`Saved: ${saved.skills.join(', ')} (${saved.level}), revision ${saved.revision}.`));
      });
      section.append(h('p', null, `Revision ${profile.revision}, set ${when(profile.set_at)}.`), form, said);
      return section;
    }

    // One key per form: a retried press after a lost answer acts once (Idempotency-Key).
    function act(form, what, work) {
      let key = crypto.randomUUID();
      form.addEventListener('input', () => { key = crypto.randomUUID(); });
      return busyForm(form, out, async (data) => {
        const changed = await post(...work(data), { headers: { 'idempotency-key': key } });
        await describe(changed, what);
      });
    }

    async function giveTest(a) {
      let profiles;
      try {
        profiles = (await everything('/hiring/profiles', 'profiles')).filter((p) => !p.retired);
      } catch (error) {
        return problem(error);
      }
      if (profiles.length === 0) {
        return h('p', null, 'No test to give yet: add a profile in ', h('a', { href: '#/hiring/bank' }, 'the test bank'), '.');
      }
      return act(h('form', { 'aria-label': 'Give a test' },
        field('Test profile', h('select', { name: 'profile', required: true }, profiles.map((p) =>
          h('option', { value: p.profile_id }, `${p.name} (pass ${p.pass_mark} of ${p.max_score}, ${p.time_limit_days} days)`)))),
        h('button', { type: 'submit' }, 'Give the test')), 'Test given: the applicant takes it at the link we mailed them.',
      (data) => [`${path}/test`, { test_profile_id: data.get('profile') }]);
    }

    function accept(a) {
      const worker = a.kind === 'worker';
      return act(h('form', { 'aria-label': 'Accept' },
        worker ? field('Skills (comma-separated tags, e.g. window-cleaning)', h('input', { name: 'skills', required: true, size: 30 })) : null,
        worker ? field('Level', h('select', { name: 'level', required: true }, LEVELS.map((l) => h('option', { value: l }, l)))) : null,
        h('button', { type: 'submit' }, 'Accept')), 'Accepted: their account opens shortly, and they are mailed how to sign in.',
      (data) => [`${path}/accept`, worker
        ? { skills: data.get('skills').split(/[\s,]+/).filter(Boolean), level: data.get('level') }
        : {}]);
    }

    function decline() {
      return act(h('form', { 'aria-label': 'Decline' },
        field('Reason (mailed to the applicant)', h('textarea', { name: 'reason', required: true, maxlength: 1000, rows: 2, cols: 40 })),
        h('button', { type: 'submit', class: 'danger' }, 'Decline')), 'Declined: the reason goes to the applicant by mail.',
      (data) => [`${path}/decline`, { reason: data.get('reason').trim() }]);
    }
  },
};

/** The paper as the applicant was given it (pinned revisions), their choices marked. */
function paper(a) {
  const p = a.paper;
  const chosen = new Set((a.answers ?? []).flatMap((answer) => answer.option_ids));
  return h('section', { 'aria-labelledby': 'paper' },
    h('h2', { id: 'paper' }, 'The test given'),
    h('p', null, `Profile ${idTail(p.profile_id)} (revision ${p.profile_revision}): pass mark ${p.pass_mark}, ${p.time_limit_days} day(s) to answer.`
      + (a.answers ? ' Ticks mark the applicant\'s choices.' : ' Not answered yet.')),
    h('ol', { class: 'paper' }, p.questions.map((q) => h('li', { 'data-question-id': q.question_id },
      named(q.text),
      h('ul', null, q.options.map((o) => {
        const ticked = chosen.has(o.option_id);
        return h('li', { class: ticked ? 'chosen' : null, 'data-chosen': ticked ? 'true' : 'false' },
          ticked ? '✓ ' : '', named(o.text), h('span', { class: 'muted' }, ` (${o.points} point${o.points === 1 ? '' : 's'})`));
      }))))));
}
