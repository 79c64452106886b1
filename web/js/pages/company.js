// Company accounting (SPEC B1, B6), for admins and accountants: earnings per day, the close of a
// day, every account and any account's audit log.

import { h, show, busyForm, field, pagedTable, problem, clipped } from '../dom.js';
import { get, query } from '../api.js';
import { addDays, dollars, moneyClass, timestamp } from '../format.js';
import { earningsChart } from '../chart.js';
import { auditLog, balanceFigures } from './accounting.js';

// The range a page with earnings opens on: the last 14 business days, ending today.
const DEFAULT_DAYS = 14;

/** An earnings figure and chart for a range, from `path` (accounting's or analytics'). */
export function earningsSection(path, { title = 'Earnings per day' } = {}) {
  const out = h('div', { 'aria-live': 'polite' });
  const from = h('input', { name: 'from', type: 'date', required: true });
  const to = h('input', { name: 'to', type: 'date', required: true });
  async function load(range) {
    const earnings = await get(path + query(range));
    from.value = earnings.from ?? range.from ?? '';
    to.value = earnings.to ?? range.to ?? '';
    show(out,
      h('dl', { class: 'figures' },
        h('div', null, h('dt', null, `Today (${earnings.today.date})`),
          h('dd', { class: moneyClass(earnings.today.earnings_cents), 'data-testid': 'earnings-today' }, dollars(earnings.today.earnings_cents))),
        h('div', null, h('dt', null, 'Fees today'), h('dd', null, dollars(earnings.today.fees_cents))),
        h('div', null, h('dt', null, 'Rewards today'), h('dd', null, dollars(earnings.today.rewards_cents)))),
      earningsChart(earnings.days, { title }));
    return earnings;
  }
  const form = busyForm(h('form', { 'aria-label': `${title}: range` },
    field('From', from), field('To', to), h('button', { type: 'submit' }, 'Show')), out,
  (data) => load({ from: data.get('from'), to: data.get('to') }));
  const box = h('div', null, form, out);
  // Today's business date comes from the API (the business time zone), then the range ending there.
  box.ready = get(path).then(
    (today) => load({ from: addDays(today.today.date, -(DEFAULT_DAYS - 1)), to: today.today.date }),
    (error) => show(out, problem(error)),
  ).catch((error) => show(out, problem(error)));
  return box;
}

function closeStatus() {
  const out = h('div', { 'aria-live': 'polite' });
  const date = h('input', { name: 'date', type: 'date', required: true });
  async function load(day) {
    const close = await get(`/accounting/closes/${encodeURIComponent(day)}`);
    show(out, h('table', null, h('caption', null, `The close of ${close.date}`), h('tbody', null,
      [['Status', h('strong', { 'data-testid': 'close-status' }, close.status)],
        ['Accounts closed', `${close.accounts_closed} of ${close.accounts_total}`],
        ['Paid out', `${dollars(close.paid_cents)} in ${close.payouts} payout(s)`],
        ['Debts carried over', close.debts],
        ['Pages waiting in the dead-letter queue', close.stalled_pages],
        ['Finished at', close.closed_at ? timestamp(close.closed_at) : '—'],
      ].map(([k, v]) => h('tr', null, h('th', { scope: 'row' }, k), h('td', null, v))))));
  }
  const form = busyForm(h('form', { 'aria-label': 'The close of a day' },
    field('Business day', date), h('button', { type: 'submit' }, 'Show the close')), out,
  (data) => load(data.get('date')));
  return { form, out, load, date };
}

export async function render(main) {
  const earnings = earningsSection('/accounting/earnings', { title: 'Top management\'s earnings per day' });
  const close = closeStatus();
  const accounts = pagedTable({
    caption: 'Every ledger account',
    empty: 'No accounts yet.',
    columns: [
      { title: 'Name', cell: (a) => clipped(a.full_name ?? a.account_id, { href: `#/company/accounts/${a.account_id}` }, 'a') },
      { title: 'Balance', num: true, cell: (a) => h('span', { class: moneyClass(a.balance_cents) }, dollars(a.balance_cents)) },
      { title: 'Earned today', num: true, cell: (a) => h('span', { class: moneyClass(a.earned_today_cents) }, dollars(a.earned_today_cents)) },
    ],
    load: async (cursor) => {
      const page = await get(`/accounting/accounts${query({ limit: 50, cursor })}`);
      return { rows: page.accounts, next: page.next_cursor };
    },
  });
  show(main,
    h('h1', null, 'Company accounting'),
    h('section', { 'aria-labelledby': 'earnings' }, h('h2', { id: 'earnings' }, 'Earnings'), earnings),
    h('section', { 'aria-labelledby': 'close' }, h('h2', { id: 'close' }, 'The close of a day'), close.form, close.out),
    h('section', { 'aria-labelledby': 'accounts' }, h('h2', { id: 'accounts' }, 'Accounts'), accounts));
  // The close of yesterday (the last business day that can have closed) opens shown, as the
  // earnings open on the last two weeks: a page with figures opens on them, not on a blank form.
  const shown = await earnings.ready;
  if (shown?.today) {
    close.date.value = addDays(shown.today.date, -1);
    try { await close.load(close.date.value); } catch (error) { show(close.out, problem(error)); }
  }
  await accounts.ready;
}

/** One account's balance and audit log (#/company/accounts/:id). */
export const account = {
  async render(main, { params }) {
    const figures = h('div', { 'aria-live': 'polite' });
    const heading = h('h1', null, 'An account');
    const log = auditLog(`/accounting/accounts/${encodeURIComponent(params.id)}/entries`);
    show(main, h('p', null, h('a', { href: '#/company' }, '← Company accounting')), heading, figures,
      h('section', { 'aria-labelledby': 'log' }, h('h2', { id: 'log' }, 'Audit log'), log));
    try {
      const balance = await get(`/accounting/accounts/${encodeURIComponent(params.id)}`);
      heading.textContent = balance.full_name ?? `Account ${params.id}`;
      show(figures, balanceFigures(balance));
    } catch (error) {
      show(figures, problem(error));
    }
    await log.ready;
  },
};
