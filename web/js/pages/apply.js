// Applying to UberPopug (SPEC M1), for anyone, signed in or not: the application token is mailed.

import { h, show, busyForm, field, notice } from '../dom.js';
import { send } from '../http.js';

const KINDS = [
  ['worker', 'Worker: do the work (a short test comes first)'],
  ['client', 'Client: order work from us'],
  ['manager', 'Manager: run the work'],
];

export function render(main) {
  const out = h('div', { 'aria-live': 'polite', 'data-testid': 'apply-out' });
  const form = busyForm(h('form', { class: 'stack', 'aria-labelledby': 'apply' },
    h('fieldset', null, h('legend', null, 'Apply as'),
      KINDS.map(([kind, text], i) => h('label', { class: 'inline' },
        h('input', { type: 'radio', name: 'kind', value: kind, required: true, checked: i === 0 }), text))),
    field('Email', h('input', { name: 'email', type: 'email', autocomplete: 'email', required: true, maxlength: 254 })),
    field('Full name', h('input', { name: 'full_name', autocomplete: 'name', required: true, maxlength: 200 })),
    h('button', { type: 'submit' }, 'Apply')), out, async (data) => {
    const email = data.get('email').trim();
    // No token: this is the public form. The API answers alike for a known address, an open
    // application or a new one (M1), so the page can say only what is true of all three.
    await send('POST', '/hiring/applications', {
      body: { email, full_name: data.get('full_name').trim(), kind: data.get('kind') },
    });
    form.reset();
    show(out, notice(`Thank you. Check your mail at ${email}: a link to follow your application is on its way.`
      + ' It works for 14 days; applying again with the same address mails a new one.'));
  });

  show(main,
    h('h1', { id: 'apply' }, 'Apply to UberPopug'),
    h('p', null, 'Tell us who you are; we mail you a private link to follow your application.'),
    form, out,
    h('p', null, 'Already with us? ', h('a', { href: '#/sign-in' }, 'Sign in')));
}
