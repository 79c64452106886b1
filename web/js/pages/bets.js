// Bets (#/bets, SPEC M8), managers only (not even admins): bet on an order's outcome until its
// work begins, one bet per order; see one's bets and what they came to, an order's book, and the
// standings over a range with the fewest transfers that would settle who owes whom. Results
// only: no money moves anywhere, and nothing here reaches any other page.
// Money is integer cents from the API, shown as dollars (format.js).

import { h, show, busyForm, field, problem, notice } from '../dom.js';
import { get, post, query } from '../api.js';
import { addDays, centsFromDollars, dollars, moneyClass, timestamp, idTail, localInput } from '../format.js';

const OUTCOMES = { success: 'success (the client approves)', failed: 'failed (the client declines)' };
// The standings open on the last 30 days.
const STANDINGS_DAYS = 30;

function today() {
  return localInput(new Date()).slice(0, 10);
}

function when(iso) {
  return iso ? h('time', { datetime: iso }, timestamp(iso)) : h('span', { class: 'muted' }, '—');
}

function orderLink(id) {
  return h('a', { href: `#/orders/${id}`, 'data-order-id': id }, h('code', { title: id }, idTail(id)));
}

function manager(id, claims) {
  return id === claims.sub ? h('strong', null, 'you') : h('code', { title: id }, idTail(id));
}

/** What a bet came to: its payout, "void" (placed after the work began), or "open". */
function cameTo(bet) {
  if (bet.void) return h('span', { class: 'muted', 'data-testid': 'bet-payout' }, 'void');
  if (bet.payout_cents == null) return h('span', { class: 'muted', 'data-testid': 'bet-payout' }, 'open');
  return h('span', { 'data-testid': 'bet-payout' }, dollars(bet.payout_cents));
}

function table(caption, head, rows, empty) {
  return h('table', null, h('caption', null, caption),
    h('thead', null, h('tr', null, head.map(([title, num]) => h('th', { scope: 'col', class: num ? 'num' : null }, title)))),
    h('tbody', null, rows.length ? rows : h('tr', null, h('td', { colspan: head.length, class: 'empty' }, empty))));
}

export async function render(main, context, said = null) {
  const { query: params, claims, go } = context;
  const out = h('div', { 'aria-live': 'polite', 'data-testid': 'bets-out' });
  const asked = /^[0-9a-fA-F-]{36}$/.test(params.get('order') ?? '') ? params.get('order') : '';

  const form = h('form', { 'aria-label': 'Place a bet' },
    field('Order id', h('input', { name: 'order_id', required: true, pattern: '[0-9a-fA-F-]{36}', size: 38, value: asked, autocomplete: 'off' })),
    field('Outcome', h('select', { name: 'outcome', required: true },
      Object.entries(OUTCOMES).map(([value, label]) => h('option', { value }, label)))),
    field('Stake in dollars ($1.00 to $1,000.00)', h('input', { name: 'stake', required: true, inputmode: 'decimal', size: 10, autocomplete: 'off' })),
    h('button', { type: 'submit' }, 'Place the bet'));
  // One key for what the form holds until it is placed: a retry after a lost answer bets once.
  let key = crypto.randomUUID();
  form.addEventListener('input', () => { key = crypto.randomUUID(); });
  busyForm(form, out, async (data) => {
    const stake = centsFromDollars(data.get('stake'));
    if (stake == null) throw new Error('Give the stake in dollars, such as 5 or 12.50.');
    const bet = await post('/bets', {
      order_id: data.get('order_id').trim(),
      outcome: data.get('outcome'),
      stake_cents: stake,
    }, { headers: { 'idempotency-key': key } });
    key = crypto.randomUUID();
    await render(main, context, `Bet ${dollars(bet.stake_cents)} on ${bet.outcome} for order ${idTail(bet.order_id)}.`);
  });

  const mine = h('div', { 'aria-live': 'polite' });
  const book = h('div', { 'aria-live': 'polite' });
  const standings = h('div', { 'aria-live': 'polite' });
  const from = params.get('from') ?? addDays(today(), -(STANDINGS_DAYS - 1));
  const to = params.get('to') ?? today();
  const range = busyForm(h('form', { 'aria-label': 'Standings: range' },
    field('From', h('input', { name: 'from', type: 'date', required: true, value: from })),
    field('To', h('input', { name: 'to', type: 'date', required: true, value: to })),
    h('button', { type: 'submit' }, 'Show')), standings, async (data) => {
    go(`/bets${query({ from: data.get('from'), to: data.get('to'), order: asked || null })}`);
  });

  show(main, h('h1', null, 'Bets'),
    h('p', null, 'Bet on how an order ends, once per order, until its work begins (a bet that arrives after that is void). '
      + 'When the order is invoiced its bets settle: the winners share the whole pool in proportion to their stakes; '
      + 'with no winner, or a cancelled order, every stake comes back. Results only: no money moves.'),
    h('section', { 'aria-labelledby': 'place' }, h('h2', { id: 'place' }, 'Place a bet'), form, out),
    h('section', { 'aria-labelledby': 'mine' }, h('h2', { id: 'mine' }, 'My bets'), mine),
    asked ? h('section', { 'aria-labelledby': 'book' }, h('h2', { id: 'book' }, `The book of order ${idTail(asked)}`), book) : null,
    h('section', { 'aria-labelledby': 'standings' }, h('h2', { id: 'standings' }, 'Standings'), range, standings));
  if (said) show(out, notice(said));

  const loads = [
    get('/bets/mine').then(({ bets }) => show(mine, table('Your bets, newest first',
      [['Order'], ['Outcome'], ['Stake', true], ['Placed'], ['Book'], ['Came to', true]],
      bets.map((b) => h('tr', { 'data-bet-id': b.bet_id },
        h('td', null, h('a', { href: `#/bets${query({ order: b.order_id })}`, 'data-order-id': b.order_id }, h('code', { title: b.order_id }, idTail(b.order_id)))),
        h('td', null, b.outcome),
        h('td', { class: 'num' }, dollars(b.stake_cents)),
        h('td', null, when(b.placed_at)),
        h('td', { 'data-testid': 'book-status' }, b.status),
        h('td', { class: 'num' }, cameTo(b)))),
      'No bets yet.')), (error) => show(mine, problem(error))),
    get(`/bets/standings${query({ from, to })}`).then((s) => show(standings,
      table(`Each manager's net, ${s.from} to ${s.to}`, [['Manager'], ['Net', true]],
        s.managers.map((m) => h('tr', { 'data-manager-id': m.manager_id },
          h('td', null, manager(m.manager_id, claims)),
          h('td', { class: `num ${moneyClass(m.net_cents)}`, 'data-testid': 'net' }, dollars(m.net_cents)))),
        'No bets settled in this range.'),
      s.transfers.length
        ? h('ul', { 'aria-label': 'Transfers that would settle it', 'data-testid': 'transfers' }, s.transfers.map((t) => h('li', null,
          manager(t.from, claims), ' would pay ', manager(t.to, claims), ' ', h('strong', null, dollars(t.amount_cents)))))
        : h('p', { class: 'muted' }, 'Nobody owes anybody.')), (error) => show(standings, problem(error))),
  ];
  if (asked) {
    loads.push(get(`/bets/orders/${asked}`).then((b) => show(book,
      h('p', null, 'Order ', orderLink(b.order_id), ': ', h('strong', { 'data-testid': 'book-status' }, b.status),
        ', pool ', h('strong', { 'data-testid': 'pool' }, dollars(b.pool_cents)), '.'),
      table('Its bets, as placed', [['Manager'], ['Outcome'], ['Stake', true], ['Came to', true]],
        b.bets.map((bet) => h('tr', { 'data-bet-id': bet.bet_id },
          h('td', null, manager(bet.manager_id, claims)),
          h('td', null, bet.outcome),
          h('td', { class: 'num' }, dollars(bet.stake_cents)),
          h('td', { class: 'num' }, cameTo(bet)))),
        'No bets on it.')), (error) => show(book, problem(error))));
  }
  await Promise.all(loads);
}
