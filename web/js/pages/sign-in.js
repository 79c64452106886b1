// Sign in with a password, or with a one-time code mailed to the address.

import { h, show, busyForm, field, notice } from '../dom.js';
import * as session from '../session.js';

export function render(main, { message, done }) {
  const passwordOut = h('div', { 'aria-live': 'polite' });
  const passwordForm = busyForm(h('form', { class: 'stack', 'aria-labelledby': 'with-password' },
    h('h2', { id: 'with-password' }, 'With a password'),
    field('Email', h('input', { name: 'email', type: 'email', autocomplete: 'username', required: true })),
    field('Password', h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true })),
    h('button', { type: 'submit' }, 'Sign in'),
    passwordOut), passwordOut, async (data) => {
    await session.signInWithPassword(data.get('email').trim(), data.get('password'));
    done();
  });

  // Two forms, one button each, so that Enter always does what the visible button says.
  const codeOut = h('div', { 'aria-live': 'polite' });
  const emailInput = h('input', { name: 'email', type: 'email', autocomplete: 'username', required: true });
  const sendButton = h('button', { type: 'submit', class: 'secondary' }, 'Mail me a code');
  const codeInput = h('input', { name: 'code', inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9]{6}', maxlength: 6, required: true });
  const useForm = h('form', { class: 'stack', 'aria-label': 'The code', hidden: true },
    field('Code from the mail (6 digits)', codeInput),
    h('button', { type: 'submit' }, 'Sign in with the code'));
  const requestForm = h('form', { class: 'stack', 'aria-label': 'Mail me a code' },
    field('Email', emailInput), sendButton);
  busyForm(requestForm, codeOut, async (data) => {
    const email = data.get('email').trim();
    await session.requestCode(email);
    useForm.hidden = false;
    sendButton.textContent = 'Mail another code';
    show(codeOut, notice(`If ${email} belongs to an active account, a code is on its way. It works once, for 10 minutes.`));
    codeInput.focus();
  });
  busyForm(useForm, codeOut, async (data) => {
    await session.signInWithCode(emailInput.value.trim(), data.get('code').trim());
    done();
  });
  const codeSection = h('section', { 'aria-labelledby': 'with-code' },
    h('h2', { id: 'with-code' }, 'With a code by mail'), requestForm, useForm, codeOut);

  show(main,
    h('h1', null, 'Sign in to aTES'),
    message ? notice(message) : null,
    passwordForm,
    codeSection,
    h('p', null, 'Not with us yet? ', h('a', { href: '#/apply' }, 'Apply to join UberPopug'), ' as a worker, a client or a manager.'));
}
