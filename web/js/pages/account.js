// My account (GET /auth/me), a client's page: who they are to UberPopug. Clients are customers,
// not employees (SPEC Roles): no tracker, no money pages; they order services (SPEC M2) and pay
// for them weekly from the card they keep here (SPEC M7, payments).

import { h, show, problem, clipped, busyForm, field, notice } from '../dom.js';
import { get, put, api } from '../api.js';
import { timestamp } from '../format.js';

export async function render(main) {
  const body = h('div', { 'aria-live': 'polite' });
  // Every section is placed before anything is awaited: a page the person has left by the time
  // an answer arrives must not grow on the next page.
  show(main, h('h1', null, 'My account'), body, card());
  try {
    const me = await get('/auth/me');
    show(body,
      h('table', null, h('caption', null, 'Your account'), h('tbody', null,
        [['Name', clipped(me.full_name, { 'data-testid': 'my-name' })],
          ['Email', clipped(me.email)],
          ['Role', h('span', { 'data-testid': 'my-role' }, me.role)],
          ['Since', h('time', { datetime: me.created_at }, timestamp(me.created_at))],
        ].map(([k, v]) => h('tr', null, h('th', { scope: 'row' }, k), h('td', null, v))))),
      h('p', null, 'You sign in with a code mailed to this address. ',
        h('a', { href: '#/order' }, 'Order a service'), ', or follow ', h('a', { href: '#/orders/mine' }, 'your orders'), '.'));
  } catch (error) {
    show(body, problem(error));
  }
}

/**
 * The card on file: shown masked, replaced, forgotten. In a deployment the acquirer's own form
 * turns the card into a token in the browser (the number never reaches us); here its test tokens
 * stand in: tok_visa and tok_mastercard pay, tok_chargeDeclined is kept but every charge fails.
 */
function card() {
  const shown = h('div', { 'aria-live': 'polite' });
  const out = h('div', { 'aria-live': 'polite' });
  const token = h('input', { name: 'card_token', required: true, autocomplete: 'off', spellcheck: 'false', maxlength: 200, list: 'test-card-tokens' });
  const tokens = h('datalist', { id: 'test-card-tokens' },
    ['tok_visa', 'tok_mastercard', 'tok_chargeDeclined'].map((t) => h('option', { value: t })));
  const forget = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Forget the card');
  async function refresh() {
    try {
      const me = await get('/payments/me');
      forget.hidden = !me.card;
      show(shown, me.card
        ? h('p', { 'data-testid': 'card-on-file' }, `${me.card.brand} ending ${me.card.last4}`)
        : h('p', { 'data-testid': 'card-on-file' }, 'No card on file: invoices wait for one.'));
    } catch (error) {
      show(shown, problem(error));
    }
  }
  const form = busyForm(h('form', { 'aria-label': 'Card on file' },
    field('Card token (from the acquirer)', token), tokens,
    h('button', { type: 'submit' }, 'Keep this card')), out, async (data) => {
    await put('/payments/me/card', { card_token: data.get('card_token').trim() });
    form.reset();
    show(out, notice('Card kept: your invoices are collected from it.'));
    await refresh();
  });
  forget.addEventListener('click', async () => {
    forget.disabled = true;
    try {
      await api('DELETE', '/payments/me/card');
      show(out, notice('Card forgotten.'));
      await refresh();
    } catch (error) {
      show(out, problem(error));
    } finally {
      forget.disabled = false;
    }
  });
  refresh();
  return h('section', null, h('h2', null, 'Card on file'), shown, forget, form, out);
}
