// Orders (SPEC M2): a client's and a worker's own orders (#/orders/mine), every order for
// managers and admins (#/orders), and one order with its whole history (#/orders/:id), which
// for staff also says how matching chose its executor (M4). Clients cancel an order before the
// work begins, and approve or decline its report; its executor files the pre-report and the
// report there (M6, pages/reports.js).

import { h, show, busyForm, field, pagedTable, problem, notice, named, clipped } from '../dom.js';
import { get, post, query } from '../api.js';
import { dollars, timestamp, idTail } from '../format.js';
import * as reports from './reports.js';

/** The stages an order is listed by (GET /orders?place=), as the API names them. */
const STAGES = ['new', 'rated', 'pending', 'pre_report', 'in_work', 'report', 'success_invoiced',
  'failed_invoiced', 'success_paid', 'failed_paid', 'cancelled'];
const STAFF = ['manager', 'admin'];
/** Places from which the work has begun (or the order is over): no cancel from there (M2). */
const BEGUN = ['in_work', 'report', 'success_invoiced', 'failed_invoiced', 'success_paid', 'failed_paid', 'cancelled'];

/** The progress line's steps, in the order a person reads them. */
const STEPS = [
  { step: 'new', label: 'new' },
  { step: 'rated', label: 'rated' },
  { step: 'matched', label: 'matched' },
  { step: 'valued', label: 'valued' },
  { step: 'supplied', label: 'supplied' },
  { step: 'pending', label: 'pending' },
  { step: 'in_work', label: 'in work' },
  { step: 'report', label: 'report' },
  { step: 'invoiced', label: 'invoiced' },
  { step: 'paid', label: 'paid' },
];
// From pending on the net is one line: the furthest marked place says how far it came.
const LINE = [
  [['success_paid', 'failed_paid'], 'paid'],
  [['success_invoiced', 'failed_invoiced'], 'invoiced'],
  [['report'], 'report'],
  [['pre_report', 'in_work'], 'in_work'],
  [['pending'], 'pending'],
];

/** The steps an order's marking has reached (the two branches after `rate` each on their own). */
export function reached(places) {
  const marked = new Set(places);
  const done = new Set(['new']);
  const furthest = LINE.find(([names]) => names.some((p) => marked.has(p)));
  if (furthest) {
    const upTo = STEPS.findIndex((s) => s.step === furthest[1]);
    STEPS.slice(0, upTo + 1).forEach((s) => done.add(s.step));
    return done;
  }
  if (['rated', 'to_match', 'to_supply', 'executor', 'valued', 'supplied'].some((p) => marked.has(p))) done.add('rated');
  if (marked.has('executor') || marked.has('valued')) done.add('matched');
  if (marked.has('valued')) done.add('valued');
  if (marked.has('supplied')) done.add('supplied');
  return done;
}

/** Where the order is, as a line of steps: done ones ticked, awaited ones named. */
export function progressLine(order) {
  const places = order.places ?? [];
  const waiting = new Set(order.waiting_for ?? []);
  const failed = places.some((p) => p.startsWith('failed_'));
  if (places.includes('cancelled')) {
    return h('p', { class: 'progress', 'data-places': places.join(' ') },
      h('span', { class: 'step cancelled', 'data-step': 'cancelled' }, 'cancelled'));
  }
  const done = reached(places);
  return h('ol', { class: 'progress', 'aria-label': 'Progress', 'data-places': places.join(' ') },
    STEPS.map(({ step, label }) => {
      const state = done.has(step) ? 'done' : waiting.has(step) ? 'waiting' : 'todo';
      const said = { done: 'done', waiting: 'waited for', todo: 'to come' }[state];
      const text = failed && (step === 'invoiced' || step === 'paid') ? `${label} (report declined)` : label;
      return h('li', { class: `step ${state}`, 'data-step': step, 'data-state': state },
        state === 'done' ? '✓ ' : '', text, h('span', { class: 'visually-hidden' }, ` (${said})`));
    }));
}

/** "waiting for supplied" while pending still needs something; nothing after. */
export function waitingFor(order) {
  const waiting = order.waiting_for ?? [];
  if (waiting.length === 0 || order.places.includes('cancelled')) return null;
  return h('p', { class: 'waiting', 'data-testid': 'waiting-for' }, `waiting for ${waiting.join(' and ')}`);
}

/** The slot as the API gives it (UTC), the browser's local time on hover. */
export function slot(order) {
  const local = (iso) => new Date(iso).toLocaleString();
  return h('span', null,
    h('time', { datetime: order.slot_start, title: `${local(order.slot_start)} your time` }, timestamp(order.slot_start)),
    order.slot_end ? h('span', { class: 'muted' }, ` to ${timestamp(order.slot_end).slice(11)}`) : null);
}

/** The price as far as it is known: the value once set, else the estimate. */
export function price(order) {
  if (order.value_cents != null) return h('span', { title: 'the price for its executor, less your discount' }, dollars(order.value_cents));
  if (order.estimate_cents != null) return h('span', { title: 'the estimate; the price follows once an executor is found' }, `${dollars(order.estimate_cents)} (estimate)`);
  return h('span', { class: 'muted' }, '—');
}

function when(iso) {
  return iso ? h('time', { datetime: iso }, timestamp(iso)) : h('span', { class: 'muted' }, '—');
}

function account(id) {
  return id ? h('code', { title: id }, idTail(id)) : h('span', { class: 'muted' }, 'none yet');
}

function orderLink(o) {
  return h('a', { href: `#/orders/${o.order_id}`, 'data-order-id': o.order_id, class: 'wrap' }, o.service_type_name || `Order ${idTail(o.order_id)}`);
}

export function cancellable(order) {
  return !order.places.some((p) => BEGUN.includes(p));
}

/** A client's Cancel button for `order`; `done(changed)` hears the cancelled order. */
function cancelButton(order, out, done) {
  // One key per button: pressing again after a lost answer cancels once.
  const key = crypto.randomUUID();
  return h('button', {
    type: 'button',
    class: 'danger',
    'aria-label': `Cancel the order of ${order.service_type_name} (${timestamp(order.slot_start)})`,
    onclick: async (event) => {
      const button = event.currentTarget;
      if (!window.confirm(`Cancel the order of ${order.service_type_name}? This cannot be undone.`)) return;
      button.disabled = true;
      show(out);
      try {
        const changed = await post(`/orders/${order.order_id}/cancel`, undefined, { headers: { 'idempotency-key': key } });
        show(out, notice(`Cancelled the order of ${order.service_type_name}.`));
        await done(changed);
      } catch (error) {
        button.disabled = false;
        show(out, problem(error));
      }
    },
  }, 'Cancel');
}

/** My orders (#/orders/mine): a client's orders, or the orders a worker executes. */
export const mine = {
  async render(main, { claims }) {
    const client = claims.role === 'client';
    const out = h('div', { 'aria-live': 'polite', 'data-testid': 'orders-out' });
    const list = h('div');
    const columns = client
      ? [
        { title: 'Service', cell: orderLink },
        { title: 'Slot', cell: slot },
        { title: 'Price', cell: price, num: true },
        { title: 'Progress', cell: (o) => h('div', null, progressLine(o), waitingFor(o)) },
        { title: 'Action', cell: (o) => (cancellable(o) ? cancelButton(o, out, refresh)
          : o.places.includes('report') ? h('a', { href: `#/orders/${o.order_id}` }, 'Approve or decline the report') : null) },
      ]
      : [
        { title: 'Service', cell: orderLink },
        { title: 'Slot', cell: slot },
        { title: 'Address', cell: (o) => clipped(o.address) },
        { title: 'Description', cell: (o) => named(o.description) },
        { title: 'Progress', cell: progressLine },
      ];
    async function refresh() {
      const table = pagedTable({
        caption: client ? 'Your orders, newest first' : 'Orders you execute, newest first',
        empty: client ? 'No orders yet.' : 'No orders to execute yet.',
        columns,
        load: async (cursor) => {
          const page = await get(`/orders/mine${query({ limit: 50, cursor })}`);
          return { rows: page.orders, next: page.next_cursor };
        },
      });
      show(list, table);
      await table.ready;
    }
    const again = h('button', { type: 'button', class: 'secondary', onclick: async (event) => {
      const button = event.currentTarget;
      button.disabled = true;
      show(out);
      try { await refresh(); } finally { button.disabled = false; }
    } }, 'Refresh');
    show(main, h('h1', null, 'My orders'),
      client
        ? h('p', null, 'What you ordered and how far it is. ', h('a', { href: '#/order' }, 'Order a service'), '.')
        : h('p', null, 'The orders you are the executor of: where and when, and what to do.'),
      again, out, list);
    await refresh();
  },
};

/** Orders (#/orders?place=&from=&to=), managers and admins: every order, newest first. */
export async function render(main, { query: params, go }) {
  const chosen = {
    place: STAGES.includes(params.get('place')) ? params.get('place') : '',
    from: params.get('from') ?? '',
    to: params.get('to') ?? '',
  };
  const out = h('div', { 'aria-live': 'polite' });
  const form = busyForm(h('form', { 'aria-label': 'Filter orders' },
    field('Stage', h('select', { name: 'place' }, h('option', { value: '' }, 'any'),
      STAGES.map((s) => h('option', { value: s, selected: s === chosen.place }, s)))),
    field('Created from', h('input', { name: 'from', type: 'date', value: chosen.from })),
    field('Created to', h('input', { name: 'to', type: 'date', value: chosen.to })),
    h('button', { type: 'submit' }, 'Show')), out, async (data) => {
    go(`/orders${query({ place: data.get('place'), from: data.get('from'), to: data.get('to') })}`);
  });
  const dated = chosen.from || chosen.to;
  const table = pagedTable({
    caption: `Orders${chosen.place ? ` in ${chosen.place}` : ''}, ${dated ? `created ${chosen.from || '…'} to ${chosen.to || '…'}` : 'all dates'}, newest first`,
    empty: `No orders${chosen.place ? ` in ${chosen.place}` : ''}${dated ? ' created in those dates' : ''}.`,
    columns: [
      { title: 'Service', cell: orderLink },
      { title: 'Slot', cell: slot },
      { title: 'Client', cell: (o) => account(o.client_id) },
      { title: 'Executor', cell: (o) => account(o.executor_id) },
      { title: 'Price', cell: price, num: true },
      { title: 'Progress', cell: (o) => h('div', null, progressLine(o), waitingFor(o)) },
      { title: 'Created', cell: (o) => when(o.created_at) },
    ],
    load: async (cursor) => {
      const page = await get(`/orders${query({ ...chosen, limit: 50, cursor })}`);
      return { rows: page.orders, next: page.next_cursor };
    },
  });
  show(main, h('h1', null, 'Orders'),
    h('p', null, 'Every order of every client. Open one for its history and how its executor was chosen.'),
    form, dated || chosen.place ? h('p', null, h('a', { href: '#/orders' }, 'Every order')) : null, out, table);
  await table.ready;
}

/** One order (#/orders/:id): its client, its executor, managers and admins read it. */
export const detail = {
  async render(main, { params, claims }) {
    const path = `/orders/${encodeURIComponent(params.id)}`;
    const staff = STAFF.includes(claims.role);
    const client = claims.role === 'client';
    const heading = h('h1', null, 'An order');
    const out = h('div', { 'aria-live': 'polite', 'data-testid': 'order-out' });
    const body = h('div');
    const back = staff ? h('a', { href: '#/orders' }, '← Orders') : h('a', { href: '#/orders/mine' }, '← My orders');
    const again = h('button', { type: 'button', class: 'secondary', onclick: async (event) => {
      const button = event.currentTarget;
      button.disabled = true;
      show(out);
      try { await load(); } finally { button.disabled = false; }
    } }, 'Refresh');
    show(main, h('p', null, back), heading, again, out, body);
    await load();

    async function load(said = null) {
      let order;
      let history;
      try {
        [order, history] = await Promise.all([get(path), get(`${path}/history`)]);
      } catch (error) {
        show(body, problem(error));
        return;
      }
      heading.textContent = order.service_type_name || 'An order';
      if (said) show(out, notice(said));
      const facts = [
        ['Order', h('code', { title: order.order_id }, idTail(order.order_id))],
        ['Slot', slot(order)],
        ['Address', h('span', { class: 'wrap' }, order.address)],
        ['Description', h('span', { class: 'wrap' }, order.description)],
        ['Estimate', order.estimate_cents != null ? dollars(order.estimate_cents) : h('span', { class: 'muted' }, 'not yet')],
        ['Value', order.value_cents != null
          ? h('span', { 'data-testid': 'order-value' }, dollars(order.value_cents),
            order.list_price_cents != null ? h('span', { class: 'muted' }, ` (list price ${dollars(order.list_price_cents)})`) : null)
          : h('span', { class: 'muted' }, 'once an executor is found')],
        ['Executor', order.executor_id && order.executor_id === claims.sub ? h('strong', null, 'you') : account(order.executor_id)],
        staff ? ['Client', account(order.client_id)] : null,
        ['Ordered', when(order.created_at)],
      ].filter(Boolean);
      show(body,
        h('section', { 'aria-labelledby': 'progress' }, h('h2', { id: 'progress' }, 'Progress'),
          progressLine(order), waitingFor(order) ?? h('p', { class: 'muted', 'data-testid': 'waiting-for' }, 'waiting for nothing'),
          h('p', { class: 'muted' }, `Marked places: ${order.places.join(', ')}; version ${order.version}.`)),
        client ? actions(order) : null,
        await reports.section(order, claims, load),
        h('table', null, h('caption', null, 'The order'), h('tbody', null,
          facts.map(([k, v]) => h('tr', null, h('th', { scope: 'row' }, k), h('td', null, v))))),
        historyTable(history),
        staff ? await matching(order) : null);
    }

    /** A client's acts, each only where the API would allow it. */
    function actions(order) {
      const parts = [];
      if (cancellable(order)) {
        parts.push(h('p', null, 'You may cancel until the work begins. ', cancelButton(order, out, () => load())));
      }
      if (order.places.includes('report')) parts.push(approve(order), decline(order));
      return parts.length ? h('section', { 'aria-labelledby': 'decide' }, h('h2', { id: 'decide' }, 'What you can do'), parts) : null;
    }

    function approve(order) {
      const key = crypto.randomUUID();
      return busyForm(h('form', { 'aria-label': 'Approve the report' },
        h('p', null, 'The executor reported the work done. Approve it (you are invoiced), or decline it with a reason. '
          + 'A report not decided is approved by itself 72 hours after it.'),
        h('button', { type: 'submit' }, 'Approve')), out, async () => {
        await post(`${path}/approve`, undefined, { headers: { 'idempotency-key': key } });
        await load(`Approved: the order of ${order.service_type_name} is invoiced.`);
      });
    }

    function decline(order) {
      let key = crypto.randomUUID();
      const form = busyForm(h('form', { 'aria-label': 'Decline the report' },
        field('Reason', h('textarea', { name: 'reason', required: true, maxlength: 1000, rows: 2, cols: 40 })),
        h('button', { type: 'submit', class: 'danger' }, 'Decline')), out, async (data) => {
        await post(`${path}/decline`, { reason: data.get('reason').trim() }, { headers: { 'idempotency-key': key } });
        await load(`Declined the report of ${order.service_type_name}.`);
      });
      form.addEventListener('input', () => { key = crypto.randomUUID(); });
      return form;
    }
  },
};

function historyTable(history) {
  return h('section', { 'aria-labelledby': 'history' }, h('h2', { id: 'history' }, 'History'),
    h('table', null, h('caption', null, 'Every transition, in order'),
      h('thead', null, h('tr', null, ['Transition', 'When', 'By', 'Cause', 'Places after'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', null, history.transitions.map((t) => h('tr', { 'data-transition': t.transition },
        h('td', null, t.transition),
        h('td', null, when(t.at)),
        h('td', null, /^[0-9a-f-]{36}$/.test(t.actor) ? h('code', { title: t.actor }, `account ${idTail(t.actor)}`) : t.actor),
        h('td', null, t.cause_event_id ? h('code', { title: `event ${t.cause_event_id}` }, `event ${idTail(t.cause_event_id)}`) : h('span', { class: 'muted' }, 'a command')),
        h('td', null, t.places.join(', ')))))));
}

const WHY = {
  chosen: 'chosen',
  busy: 'busy: another order of theirs overlaps the slot',
  released: 'released from this order',
  'more orders': 'more orders: someone free had fewer in the last 7 days',
  'tie lost': 'tie lost: as few orders as the chosen one, and the draw went the other way',
};

/** Matching's explanation (managers and admins): the candidates and why this one. */
async function matching(order) {
  let found;
  try {
    found = await get(`/matching/orders/${order.order_id}`);
  } catch (error) {
    const why = error?.status === 404 ? notice('Matching has not taken this order up yet.') : problem(error);
    return h('section', { 'aria-labelledby': 'matching' }, h('h2', { id: 'matching' }, 'Matching'), why);
  }
  const status = {
    matched: h('span', null, 'Matched to ', account(found.executor_id), ' at ', when(found.decided_at), '.'),
    waiting: h('span', null, 'Waiting for an eligible worker since ', when(found.waiting_since), '; matching tries again every 5 minutes.'),
    cancelled: h('span', null, 'The order was cancelled.'),
  }[found.status] ?? found.status;
  return h('section', { 'aria-labelledby': 'matching' }, h('h2', { id: 'matching' }, 'Matching'),
    h('p', { 'data-testid': 'matching-status', 'data-status': found.status }, status),
    h('table', null, h('caption', null, 'The candidates at the latest choice (active workers with the skill)'),
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Worker'), h('th', { scope: 'col', class: 'num' }, 'Orders in 7 days'), h('th', { scope: 'col' }, 'Why'))),
      h('tbody', null, found.candidates.length === 0
        ? h('tr', null, h('td', { colspan: 3, class: 'empty' }, 'No active worker has the skill.'))
        : found.candidates.map((c) => h('tr', { 'data-worker-id': c.worker_id, class: c.chosen ? 'chosen' : null },
          h('td', null, account(c.worker_id)),
          h('td', { class: 'num' }, String(c.orders_in_last_7_days)),
          h('td', null, WHY[c.why] ?? c.why))))));
}
