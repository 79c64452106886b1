// Billing (SPEC M7). Clients: their invoices (#/billing/invoices/mine) and one invoice with its
// lines (#/billing/invoices/:id, which accountants and admins open too). Workers: this month so
// far and their monthly statements (#/billing/me). Accountants and admins: the invoices of a week
// or in a status (#/billing/invoices), a month's statements (#/billing/statements) and the revenue
// per week (#/billing/revenue). Managers: bonuses, granted and listed (#/billing/bonuses).
// Money is integer cents from the API, shown as dollars (format.js).

import { h, show, busyForm, field, pagedTable, problem, notice, named } from '../dom.js';
import { get, post, query } from '../api.js';
import { addDays, centsFromDollars, dollars, moneyClass, timestamp, idTail, localInput } from '../format.js';

const STATUSES = ['open', 'paid', 'retrying', 'uncollectible'];
const OUTCOMES = { approved: 'approved', declined: 'declined (the fine)', cancelled: 'cancelled once priced' };
const SALARY = { none: 'none', pending: 'pending (sent once the bank confirms, or held for your bank details)', paid: 'paid' };
// The range the revenue opens on: this week and the seven before it.
const REVENUE_WEEKS = 8;

/** Today in the browser's time zone, "YYYY-MM-DD". */
function today() {
  return localInput(new Date()).slice(0, 10);
}

/** The ISO week of a "YYYY-MM-DD" day, "2026-W49" (as the API names weeks and `<input type=week>` holds them). */
export function isoWeek(day) {
  const [y, m, d] = day.split('-').map(Number);
  const date = new Date(Date.UTC(y, m - 1, d));
  // The week's Thursday names its year.
  date.setUTCDate(date.getUTCDate() + 3 - ((date.getUTCDay() + 6) % 7));
  const year = date.getUTCFullYear();
  const week = Math.floor((date - Date.UTC(year, 0, 1)) / 86_400_000 / 7) + 1;
  return `${year}-W${String(week).padStart(2, '0')}`;
}

/** The month before the one of a "YYYY-MM-DD" day, "YYYY-MM". */
function monthBefore(day) {
  const [y, m] = day.split('-').map(Number);
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`;
}

function when(iso) {
  return iso ? h('time', { datetime: iso }, timestamp(iso)) : h('span', { class: 'muted' }, '—');
}

function money(cents, props = {}) {
  return h('span', { ...props, class: moneyClass(cents) }, dollars(cents));
}

function account(id) {
  return h('code', { title: id }, idTail(id));
}

function invoiceStatus(invoice) {
  return h('span', { 'data-testid': 'invoice-status', 'data-status': invoice.status }, invoice.status,
    invoice.status === 'retrying' && invoice.retry_at
      ? h('span', { class: 'muted' }, ` (next try ${timestamp(invoice.retry_at)})`) : null);
}

function invoiceLink(invoice) {
  return h('a', { href: `#/billing/invoices/${invoice.invoice_id}`, 'data-invoice-id': invoice.invoice_id }, `Week ${invoice.week}`);
}

/** A filter form whose values live in the address: back and reload keep them. */
function filterForm(label, controls, out, submit) {
  return busyForm(h('form', { 'aria-label': label }, controls, h('button', { type: 'submit' }, 'Show')), out, submit);
}

/** A statement's columns: what it counts, its total, the salary paid and the debt carried on. */
function statementColumns() {
  return [
    { title: 'Carried in', num: true, cell: (s) => money(s.carried_in_cents) },
    { title: 'Shares', num: true, cell: (s) => money(s.shares_cents) },
    { title: 'Fines', num: true, cell: (s) => money(-s.fines_cents) },
    { title: 'Waivers', num: true, cell: (s) => money(s.waivers_cents) },
    { title: 'Bonuses', num: true, cell: (s) => money(s.bonuses_cents) },
    { title: 'Total', num: true, cell: (s) => money(s.total_cents, { 'data-testid': 'statement-total' }) },
    { title: 'Salary', num: true, cell: (s) => h('span', { title: SALARY[s.salary] ?? s.salary }, dollars(s.salary_cents), ' ',
      h('span', { class: 'muted', 'data-testid': 'salary-status' }, s.salary)) },
    { title: 'Carried out', num: true, cell: (s) => money(s.carried_out_cents) },
  ];
}

/** My invoices (#/billing/invoices/mine), clients. */
export const mine = {
  async render(main) {
    const table = pagedTable({
      caption: 'Your invoices, newest week first',
      empty: 'No invoices yet: the first comes after the week of your first order that is priced and ends.',
      columns: [
        { title: 'Week', cell: invoiceLink },
        { title: 'Status', cell: invoiceStatus },
        { title: 'Orders', num: true, cell: (i) => String(i.lines.length) },
        { title: 'Amount', num: true, cell: (i) => h('span', { 'data-testid': 'invoice-total' }, dollars(i.total_cents)) },
        { title: 'Issued', cell: (i) => when(i.issued_at) },
        { title: 'Paid', cell: (i) => when(i.paid_at) },
      ],
      load: async (cursor) => {
        const page = await get(`/billing/me/invoices${query({ limit: 50, cursor })}`);
        return { rows: page.invoices, next: page.next_cursor };
      },
    });
    show(main, h('h1', null, 'My invoices'),
      h('p', null, 'When a business week ends (Sunday), the orders of yours that ended in it are invoiced: approved, '
        + 'declined and cancelled once priced. The invoice is collected from ', h('a', { href: '#/account' }, 'your card'),
      '; a declined charge is tried again after 1, 3 and 7 days.'),
      table);
    await table.ready;
  },
};

/** One invoice and its lines (#/billing/invoices/:id): its client, accountants, admins. */
export const invoice = {
  async render(main, { params, claims }) {
    const client = claims.role === 'client';
    const heading = h('h1', null, 'An invoice');
    const body = h('div', { 'aria-live': 'polite' });
    const back = client ? h('a', { href: '#/billing/invoices/mine' }, '← My invoices') : h('a', { href: '#/billing/invoices' }, '← Invoices');
    show(main, h('p', null, back), heading, body);
    let found;
    try {
      found = await get(`/billing/invoices/${encodeURIComponent(params.id)}`);
    } catch (error) {
      show(body, problem(error));
      return;
    }
    heading.textContent = `Invoice of week ${found.week}`;
    const facts = [
      ['Invoice', h('code', { title: found.invoice_id }, idTail(found.invoice_id))],
      client ? null : ['Client', account(found.client_id)],
      ['Week', found.week],
      ['Status', invoiceStatus(found)],
      ['Amount', h('strong', { 'data-testid': 'invoice-total' }, dollars(found.total_cents))],
      ['Issued', when(found.issued_at)],
      ['Paid', when(found.paid_at)],
    ].filter(Boolean);
    const order = (id) => (client
      ? h('a', { href: `#/orders/${id}`, 'data-order-id': id }, h('code', { title: id }, idTail(id)))
      : h('code', { title: id, 'data-order-id': id }, idTail(id)));
    show(body,
      h('table', null, h('caption', null, 'The invoice'), h('tbody', null,
        facts.map(([k, v]) => h('tr', null, h('th', { scope: 'row' }, k), h('td', null, v))))),
      h('table', null, h('caption', null, 'Its lines, one per order'),
        h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Order'), h('th', { scope: 'col' }, 'Outcome'), h('th', { scope: 'col', class: 'num' }, 'Amount'))),
        h('tbody', null, found.lines.map((l) => h('tr', { 'data-line': l.order_id },
          h('td', null, order(l.order_id)),
          h('td', null, OUTCOMES[l.outcome] ?? l.outcome),
          h('td', { class: 'num' }, dollars(l.amount_cents))))),
        h('tfoot', null, h('tr', null, h('th', { scope: 'row', colspan: 2 }, 'Total'), h('td', { class: 'num' }, dollars(found.total_cents))))));
  },
};

/** My earnings (#/billing/me), workers: this month so far and the monthly statements. */
export const earnings = {
  async render(main) {
    const figures = h('div', { 'aria-live': 'polite' });
    const statements = pagedTable({
      caption: 'Your monthly statements, newest first',
      empty: 'No statements yet: the first comes when this month\'s last business day ends.',
      columns: [{ title: 'Month', cell: (s) => h('span', { 'data-testid': 'statement-month' }, s.month) }, ...statementColumns()],
      load: async (cursor) => {
        const page = await get(`/billing/me/statements${query({ limit: 50, cursor })}`);
        return { rows: page.statements, next: page.next_cursor };
      },
    });
    show(main, h('h1', null, 'My earnings'),
      h('p', null, 'Per order: 60 % of its list price when its client approves the work; a fine of 40 % when they decline it '
        + '(waived if quality control finds you not at fault), or when quality control finds you at fault. Managers grant bonuses. '
        + 'At the end of a month\'s last business day you get its statement: a positive total is paid as salary, a negative one is carried to the next month.'),
      h('section', { 'aria-labelledby': 'month' }, h('h2', { id: 'month' }, 'This month so far'), figures),
      h('section', { 'aria-labelledby': 'statements' }, h('h2', { id: 'statements' }, 'Statements'), statements));
    try {
      const month = await get('/billing/me');
      const figure = (title, cents, testid) => h('div', null, h('dt', null, title),
        h('dd', { class: moneyClass(cents), 'data-testid': testid }, dollars(cents)));
      show(figures, h('p', { class: 'muted' }, `${month.month}, until its last business day ends.`),
        h('dl', { class: 'figures', 'data-month': month.month },
          figure('Shares', month.shares_cents, 'month-shares'),
          figure('Fines', -month.fines_cents, 'month-fines'),
          figure('Waivers', month.waivers_cents, 'month-waivers'),
          figure('Bonuses', month.bonuses_cents, 'month-bonuses'),
          figure('Carried from before', month.carried_cents, 'month-carried'),
          figure('Expected salary', month.expected_salary_cents, 'month-salary')));
    } catch (error) {
      show(figures, problem(error));
    }
    await statements.ready;
  },
};

/** Invoices (#/billing/invoices?week=&status=), accountants and admins. */
export async function render(main, { query: params, go }) {
  const status = STATUSES.includes(params.get('status')) ? params.get('status') : '';
  // The API lists by week, by status or both: with neither asked, the week that ended last.
  const week = params.get('week') ?? (status ? '' : isoWeek(addDays(today(), -7)));
  const out = h('div', { 'aria-live': 'polite', 'data-testid': 'invoices-out' });
  const form = filterForm('Filter invoices', [
    field('Week', h('input', { name: 'week', type: 'week', value: week })),
    field('Status', h('select', { name: 'status' }, h('option', { value: '' }, 'any'),
      STATUSES.map((s) => h('option', { value: s, selected: s === status }, s)))),
  ], out, async (data) => {
    go(`/billing/invoices${query({ week: data.get('week'), status: data.get('status') })}`);
  });
  const table = pagedTable({
    caption: `Invoices${week ? ` of week ${week}` : ''}${status ? `${week ? ',' : ''} ${status}` : ''}`,
    empty: `No invoices${week ? ` of week ${week}` : ''}${status ? ` ${status}` : ''}.`,
    columns: [
      { title: 'Week', cell: invoiceLink },
      { title: 'Client', cell: (i) => account(i.client_id) },
      { title: 'Status', cell: invoiceStatus },
      { title: 'Orders', num: true, cell: (i) => String(i.lines.length) },
      { title: 'Amount', num: true, cell: (i) => dollars(i.total_cents) },
      { title: 'Issued', cell: (i) => when(i.issued_at) },
      { title: 'Paid', cell: (i) => when(i.paid_at) },
    ],
    load: async (cursor) => {
      const page = await get(`/billing/invoices${query({ week, status, limit: 50, cursor })}`);
      return { rows: page.invoices, next: page.next_cursor };
    },
  });
  show(main, h('h1', null, 'Invoices'),
    h('p', null, 'Each client\'s invoice of a business week, issued when the week ends and collected from their card. '
      + 'Give a week, a status, or both: the uncollectible ones (three retries declined) are for you to follow up.'),
    form, out, table);
  await table.ready;
}

/** Statements (#/billing/statements?month=), accountants and admins. */
export const statements = {
  async render(main, { query: params, go }) {
    const asked = params.get('month') ?? '';
    const month = /^\d{4}-\d{2}$/.test(asked) ? asked : monthBefore(today());
    const out = h('div', { 'aria-live': 'polite', 'data-testid': 'statements-out' });
    const form = filterForm('Choose the month', [
      field('Month', h('input', { name: 'month', type: 'month', required: true, value: month })),
    ], out, async (data) => { go(`/billing/statements${query({ month: data.get('month') })}`); });
    const table = pagedTable({
      caption: `Statements of ${month}`,
      empty: `No statements of ${month}: they are issued when its last business day ends.`,
      columns: [{ title: 'Worker', cell: (s) => account(s.worker_id) }, ...statementColumns()],
      load: async (cursor) => {
        const page = await get(`/billing/statements${query({ month, limit: 50, cursor })}`);
        return { rows: page.statements, next: page.next_cursor };
      },
    });
    show(main, h('h1', null, 'Statements'),
      h('p', null, 'Each worker\'s statement of a month: shares, fines and their waivers, bonuses and the debt carried in; '
        + 'a positive total is paid as salary, a negative one carried to the next month.'),
      form, out, table);
    await table.ready;
  },
};

/** Revenue (#/billing/revenue?from=&to=), accountants and admins: per week. */
export const revenue = {
  async render(main, { query: params, go }) {
    const day = (name) => (/^\d{4}-\d{2}-\d{2}$/.test(params.get(name) ?? '') ? params.get(name) : '');
    const to = day('to') || today();
    const from = day('from') || addDays(to, -(7 * REVENUE_WEEKS - 1));
    const out = h('div', { 'aria-live': 'polite', 'data-testid': 'revenue-out' });
    const form = filterForm('Revenue: range', [
      field('From', h('input', { name: 'from', type: 'date', required: true, value: from })),
      field('To', h('input', { name: 'to', type: 'date', required: true, value: to })),
    ], out, async (data) => { go(`/billing/revenue${query({ from: data.get('from'), to: data.get('to') })}`); });
    const body = h('div', { 'aria-live': 'polite' });
    show(main, h('h1', null, 'Revenue'),
      h('p', null, 'Per business week: what clients were charged and what was collected from their cards; '
        + 'the workers\' shares, their fines (less waivers) and bonuses.'),
      form, out, body);
    let weeks;
    try {
      ({ weeks } = await get(`/billing/revenue${query({ from, to })}`));
    } catch (error) {
      show(body, problem(error));
      return;
    }
    const sum = (key) => weeks.reduce((total, w) => total + w[key], 0);
    const KEYS = [['Charged', 'charged_cents'], ['Collected', 'collected_cents'], ['Shares', 'shares_cents'],
      ['Fines', 'fines_cents'], ['Bonuses', 'bonuses_cents']];
    show(body, h('table', null, h('caption', null, `Revenue per week, ${from} to ${to}`),
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Week'),
        KEYS.map(([title]) => h('th', { scope: 'col', class: 'num' }, title)))),
      h('tbody', null, weeks.length === 0
        ? h('tr', null, h('td', { colspan: KEYS.length + 1, class: 'empty' }, 'No money moved in those days.'))
        : weeks.map((w) => h('tr', { 'data-week': w.week }, h('th', { scope: 'row' }, w.week),
          KEYS.map(([, key]) => h('td', { class: 'num', 'data-key': key }, dollars(w[key])))))),
      weeks.length > 1
        ? h('tfoot', null, h('tr', null, h('th', { scope: 'row' }, 'All'),
          KEYS.map(([, key]) => h('td', { class: 'num' }, dollars(sum(key))))))
        : null));
  },
};

/** Bonuses (#/billing/bonuses?worker=), managers: grant one, and every bonus, newest first. */
export const bonuses = {
  async render(main, context, said = null) {
    const { query: params, claims } = context;
    const out = h('div', { 'aria-live': 'polite', 'data-testid': 'bonus-out' });
    const worker = /^[0-9a-fA-F-]{36}$/.test(params.get('worker') ?? '') ? params.get('worker') : '';
    const form = h('form', { 'aria-label': 'Grant a bonus' },
      field('Worker id', h('input', { name: 'worker_id', required: true, pattern: '[0-9a-fA-F-]{36}', size: 38, value: worker, autocomplete: 'off' })),
      field('Amount in dollars (up to $1,000.00)', h('input', { name: 'amount', required: true, inputmode: 'decimal', size: 10, autocomplete: 'off' })),
      field('Reason', h('textarea', { name: 'reason', required: true, maxlength: 500, rows: 2, cols: 40 })),
      h('button', { type: 'submit' }, 'Grant the bonus'));
    // One key for what the form holds until it is granted: a double press, or a retry after a
    // lost answer, grants once. A changed form is another bonus, with a key of its own.
    let key = crypto.randomUUID();
    form.addEventListener('input', () => { key = crypto.randomUUID(); });
    busyForm(form, out, async (data) => {
      const amount = centsFromDollars(data.get('amount'));
      if (amount == null) throw new Error('Give the amount in dollars, such as 25 or 12.50.');
      const bonus = await post('/billing/bonuses', {
        worker_id: data.get('worker_id').trim(),
        amount_cents: amount,
        reason: data.get('reason').trim(),
      }, { headers: { 'idempotency-key': key } });
      key = crypto.randomUUID();
      await bonuses.render(main, context,
        `Granted ${dollars(bonus.amount_cents)} to worker ${idTail(bonus.worker_id)}, on their statement of ${bonus.month}.`);
    });
    const table = pagedTable({
      caption: 'Bonuses, newest first',
      empty: 'No bonuses yet.',
      columns: [
        { title: 'Granted', cell: (b) => when(b.granted_at) },
        { title: 'Worker', cell: (b) => account(b.worker_id) },
        { title: 'Amount', num: true, cell: (b) => h('span', { 'data-testid': 'bonus-amount' }, dollars(b.amount_cents)) },
        { title: 'Reason', cell: (b) => named(b.reason) },
        { title: 'Month', cell: (b) => b.month },
        { title: 'By', cell: (b) => (b.granted_by === claims.sub ? h('strong', null, 'you') : account(b.granted_by)) },
      ],
      load: async (cursor) => {
        const page = await get(`/billing/bonuses${query({ limit: 50, cursor })}`);
        return { rows: page.bonuses, next: page.next_cursor };
      },
    });
    show(main, h('h1', null, 'Bonuses'),
      h('p', null, 'A bonus goes to an active worker, on the statement of the month still open (paid with its salary). '
        + 'A worker\'s id is on the orders they execute and in matching\'s choice of them.'),
      h('section', { 'aria-labelledby': 'grant' }, h('h2', { id: 'grant' }, 'Grant a bonus'), form, out),
      h('section', { 'aria-labelledby': 'granted' }, h('h2', { id: 'granted' }, 'Granted'), table));
    if (said) show(out, notice(said));
    await table.ready;
  },
};
