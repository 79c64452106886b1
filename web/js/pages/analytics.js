// Analytics (SPEC N), for admins: today's summary, the most expensive task of a day, week, month
// or range, and earnings per day from analytics' own projections (/analytics/*).

import { h, show, busyForm, field, problem } from '../dom.js';
import { get, query } from '../api.js';
import { dollars, moneyClass, taskName, timestamp } from '../format.js';
import { earningsSection } from './company.js';

async function summary(out) {
  try {
    const s = await get('/analytics/summary');
    show(out, h('dl', { class: 'figures' },
      h('div', null, h('dt', null, `Management earned today (${s.business_date})`),
        h('dd', { class: moneyClass(s.management_earnings_today_cents), 'data-testid': 'analytics-earnings-today' }, dollars(s.management_earnings_today_cents))),
      h('div', null, h('dt', null, 'Employees with a negative balance'),
        h('dd', { 'data-testid': 'negative-balances' }, s.negative_balance_accounts))));
    return s;
  } catch (error) {
    show(out, problem(error));
    return null;
  }
}

function mostExpensive() {
  const out = h('div', { 'aria-live': 'polite' });
  const kind = h('select', { name: 'kind' },
    h('option', { value: 'day' }, 'A day'),
    h('option', { value: 'week' }, 'A week'),
    h('option', { value: 'month' }, 'A month'),
    h('option', { value: 'range' }, 'A range of days'));
  const date = h('input', { name: 'date', type: 'date' });
  const from = h('input', { name: 'from', type: 'date' });
  const to = h('input', { name: 'to', type: 'date' });
  const dateField = field('Containing the day', date);
  const rangeFields = h('span', { class: 'range', hidden: true }, field('From', from), field('To', to));
  kind.addEventListener('change', () => {
    const range = kind.value === 'range';
    dateField.hidden = range;
    rangeFields.hidden = !range;
  });
  async function load(params) {
    const answer = await get(`/analytics/most-expensive-task${query(params)}`);
    const t = answer.task;
    show(out, h('div', { 'data-testid': 'most-expensive' },
      h('p', null, `From ${answer.from} to ${answer.to}: `,
        t ? h('strong', null, `${taskName(t.title, t.jira_id)}, ${dollars(t.reward_cents)}`) : h('em', null, 'no task was completed'),
        t ? h('span', { class: 'muted' }, ` (completed ${timestamp(t.completed_at)})`) : null)));
  }
  const form = busyForm(h('form', { 'aria-label': 'The most expensive task' },
    field('Period', kind), dateField, rangeFields, h('button', { type: 'submit' }, 'Find')), out, (data) => (
    data.get('kind') === 'range'
      ? load({ from: data.get('from'), to: data.get('to') })
      : load({ period: data.get('kind'), date: data.get('date') })));
  return { box: h('div', null, form, out), date, from, to, load };
}

export async function render(main) {
  const summaryOut = h('div', { 'aria-live': 'polite' });
  const expensive = mostExpensive();
  const earnings = earningsSection('/analytics/earnings', { title: 'Earnings per day (analytics)' });
  show(main, h('h1', null, 'Analytics'),
    h('section', { 'aria-labelledby': 'summary' }, h('h2', { id: 'summary' }, 'Today'), summaryOut),
    h('section', { 'aria-labelledby': 'expensive' }, h('h2', { id: 'expensive' }, 'The most expensive task'), expensive.box),
    h('section', { 'aria-labelledby': 'a-earnings' }, h('h2', { id: 'a-earnings' }, 'Earnings'), earnings));
  const s = await summary(summaryOut);
  if (s) {
    expensive.date.value = s.business_date;
    expensive.from.value = s.business_date;
    expensive.to.value = s.business_date;
    try { await expensive.load({ period: 'day', date: s.business_date }); } catch { /* shown on demand */ }
  }
  await earnings.ready;
}
