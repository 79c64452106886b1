// My money (SPEC B1): balance, earned today, my audit log, my payout details.

import { h, show, busyForm, field, pagedTable, problem, notice, named } from '../dom.js';
import { get, put, query } from '../api.js';
import { dollars, moneyClass, taskName, timestamp } from '../format.js';

/** The figures of a ledger account: balance and today's earnings. */
export function balanceFigures(balance) {
  return h('dl', { class: 'figures' },
    h('div', null, h('dt', null, 'Balance'),
      h('dd', { class: moneyClass(balance.balance_cents), 'data-testid': 'balance' }, dollars(balance.balance_cents))),
    h('div', null, h('dt', null, `Earned today (${balance.business_date})`),
      h('dd', { class: moneyClass(balance.earned_today_cents), 'data-testid': 'earned-today' }, dollars(balance.earned_today_cents))));
}

const KINDS = { fee: 'Assignment fee', reward: 'Completion reward', payout: 'Payout' };

/** The audit log of `path` (…/entries), newest first. */
export function auditLog(path) {
  return pagedTable({
    caption: 'Audit log, newest first',
    empty: 'No money has moved yet.',
    columns: [
      { title: 'Business day', cell: (e) => e.occurred_on && e.occurred_on !== e.business_date
        ? h('span', { title: 'A late posting: that day was already closed' }, `${e.business_date} (happened ${e.occurred_on})`)
        : e.business_date },
      { title: 'What', cell: (e) => KINDS[e.kind] ?? e.kind },
      { title: 'Task', cell: (e) => (e.kind === 'payout' ? h('span', { class: 'muted' }, '—') : named(taskName(e.title, e.jira_id))) },
      { title: 'Amount', num: true, cell: (e) => h('span', { class: moneyClass(e.amount_cents) }, dollars(e.amount_cents)) },
      { title: 'Balance after', num: true, cell: (e) => dollars(e.balance_after_cents) },
      { title: 'At', cell: (e) => h('time', { datetime: e.occurred_at }, timestamp(e.occurred_at)) },
    ],
    load: async (cursor) => {
      const page = await get(path + query({ limit: 50, cursor }));
      return { rows: page.entries, next: page.next_cursor };
    },
  });
}

function payoutDetails() {
  const current = h('div', { 'aria-live': 'polite' });
  const out = h('div', { 'aria-live': 'polite' });
  function describe(details) {
    show(current,
      h('p', null, 'Payouts go to: ', details.iban ? h('strong', { 'data-testid': 'iban' }, details.iban) : h('em', null, 'no bank account given yet'),
        details.updated_at ? h('span', { class: 'muted' }, ` (set ${timestamp(details.updated_at)})`) : null),
      details.held_transfers > 0
        ? notice(`${details.held_transfers} payout(s), ${dollars(details.held_cents)} in all, wait for your bank details.`)
        : null);
  }
  const form = busyForm(h('form', { 'aria-label': 'Set the bank account for payouts' },
    field('IBAN', h('input', { name: 'iban', required: true, minlength: 15, maxlength: 42, size: 34, autocomplete: 'off', placeholder: 'DE89 3704 0044 0532 0130 00' })),
    h('button', { type: 'submit' }, 'Save IBAN')), out, async (data) => {
    const details = await put('/accounting/me/payout-details', { iban: data.get('iban').trim() });
    form.reset();
    describe(details);
    show(out, notice('Saved. Held payouts are sent to it.'));
  });
  const box = h('div', null, current, form, out);
  box.ready = get('/accounting/me/payout-details').then(describe, (error) => show(current, problem(error)));
  return box;
}

export async function render(main) {
  const figures = h('div', { 'aria-live': 'polite' });
  const log = auditLog('/accounting/me/entries');
  const payout = payoutDetails();
  show(main,
    h('h1', null, 'My money'),
    figures,
    h('section', { 'aria-labelledby': 'log' }, h('h2', { id: 'log' }, 'My audit log'), log),
    h('section', { 'aria-labelledby': 'payout' }, h('h2', { id: 'payout' }, 'My payout details'), payout));
  try {
    show(figures, balanceFigures(await get('/accounting/me')));
  } catch (error) {
    show(figures, problem(error));
  }
  await Promise.all([log.ready, payout.ready]);
}
