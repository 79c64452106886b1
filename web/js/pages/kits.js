// Supplies (SPEC M5), managers and admins: the kits to hand out (#/supplies/kits?status=), each
// issued to its order's executor, and the append-only audit of what was handed out and returned
// (#/supplies/audit?from=&to=).

import { h, show, busyForm, field, pagedTable, problem, notice } from '../dom.js';
import { get, post, query } from '../api.js';
import { timestamp, idTail } from '../format.js';

const STATUSES = ['received', 'requested', 'ordered', 'issued', 'cancelled', 'unsupplied'];
const SAID = {
  received: 'received from the supplier: to hand out',
  requested: 'requested: not yet ordered from the supplier',
  ordered: 'ordered from the supplier: awaited',
  issued: 'issued to the executor',
  cancelled: 'cancelled with the order',
  unsupplied: 'unsupplied: the supplier failed every order',
};

function items(list) {
  return h('ul', { class: 'choices' }, list.map((s) => h('li', null, `${s.item} × ${s.quantity}`)));
}

function when(iso) {
  return iso ? h('time', { datetime: iso }, timestamp(iso)) : h('span', { class: 'muted' }, '—');
}

function account(id, none = 'none yet') {
  return id ? h('code', { title: id }, idTail(id)) : h('span', { class: 'muted' }, none);
}

function orderLink(id) {
  return h('a', { href: `#/orders/${id}`, 'data-order-id': id }, `order ${idTail(id)}`);
}

export async function render(main, { query: params, go }) {
  const status = STATUSES.includes(params.get('status')) ? params.get('status') : 'received';
  const out = h('div', { 'aria-live': 'polite', 'data-testid': 'kits-out' });
  const list = h('div');
  const form = busyForm(h('form', { 'aria-label': 'Filter kits' },
    field('Status', h('select', { name: 'status' }, STATUSES.map((s) => h('option', { value: s, selected: s === status }, s)))),
    h('button', { type: 'submit' }, 'Show')), out, async (data) => {
    go(`/supplies/kits${query({ status: data.get('status') === 'received' ? null : data.get('status') })}`);
  });

  function issueButton(kit) {
    if (kit.status !== 'received') return null;
    if (!kit.executor_id) return h('span', { class: 'muted' }, 'no executor yet');
    // One key per button: pressing again after a lost answer issues once.
    const key = crypto.randomUUID();
    return h('button', {
      type: 'button',
      'aria-label': `Issue the kit of order ${idTail(kit.order_id)} to its executor`,
      onclick: async (event) => {
        const button = event.currentTarget;
        button.disabled = true;
        show(out);
        try {
          const issued = await post(`/supplies/kits/${kit.kit_id}/issue`, {}, { headers: { 'idempotency-key': key } });
          show(out, notice(`Issued the kit of order ${idTail(issued.order_id)} to account ${idTail(issued.issued_to ?? issued.executor_id)}.`));
          await refresh();
        } catch (error) {
          button.disabled = false;
          show(out, problem(error));
        }
      },
    }, 'Issue to executor');
  }

  async function refresh() {
    const table = pagedTable({
      caption: `Kits ${SAID[status]}, newest first`,
      empty: `No kits ${status}.`,
      columns: [
        { title: 'Order', cell: (k) => orderLink(k.order_id) },
        { title: 'Items', cell: (k) => items(k.items) },
        { title: 'Executor', cell: (k) => account(k.issued_to ?? k.executor_id) },
        { title: 'Status', cell: (k) => h('span', { 'data-kit-status': k.status }, k.status) },
        { title: 'Supplier orders', cell: (k) => String(k.orders_placed), num: true },
        { title: 'Due', cell: (k) => when(k.due_at) },
        { title: 'Updated', cell: (k) => when(k.updated_at) },
        { title: 'Action', cell: issueButton },
      ],
      load: async (cursor) => {
        const page = await get(`/supplies/kits${query({ status, limit: 50, cursor })}`);
        return { rows: page.kits, next: page.next_cursor };
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

  show(main, h('h1', null, 'Kits'),
    h('p', null, 'Each order\'s kit: its service type\'s supplies and a fortune cookie, ordered from the supplier. '
      + 'Hand a received kit to the order\'s executor; ', h('a', { href: '#/supplies/audit' }, 'the audit'), ' keeps every hand-out.'),
    form, again, out, list);
  await refresh();
}

/** The supplies audit (#/supplies/audit?from=&to=): newest first, either end open. */
export const audit = {
  async render(main, { query: params, go }) {
    const chosen = { from: params.get('from') ?? '', to: params.get('to') ?? '' };
    const out = h('div', { 'aria-live': 'polite' });
    const form = busyForm(h('form', { 'aria-label': 'Filter the audit' },
      field('From', h('input', { name: 'from', type: 'date', value: chosen.from })),
      field('To', h('input', { name: 'to', type: 'date', value: chosen.to })),
      h('button', { type: 'submit' }, 'Show')), out, async (data) => {
      go(`/supplies/audit${query({ from: data.get('from'), to: data.get('to') })}`);
    });
    const dated = chosen.from || chosen.to;
    const table = pagedTable({
      caption: `Kits handed out and returned, ${dated ? `${chosen.from || '…'} to ${chosen.to || '…'}` : 'all dates'}, newest first`,
      empty: `Nothing handed out${dated ? ' in those dates' : ' yet'}.`,
      columns: [
        { title: 'When', cell: (e) => when(e.at) },
        { title: 'What', cell: (e) => h('span', { 'data-entry-kind': e.kind }, e.kind) },
        { title: 'Items', cell: (e) => items(e.items) },
        { title: 'Executor', cell: (e) => account(e.executor_id) },
        { title: 'By', cell: (e) => account(e.by, 'a release') },
        { title: 'Order', cell: (e) => orderLink(e.order_id) },
      ],
      load: async (cursor) => {
        const page = await get(`/supplies/audit${query({ ...chosen, limit: 50, cursor })}`);
        return { rows: page.entries, next: page.next_cursor };
      },
    });
    show(main, h('h1', null, 'Supplies audit'),
      h('p', null, 'Every artifact handed out to an executor (and returned when one was released): what, to whom, by whom, when, for which order.'),
      form, dated ? h('p', null, h('a', { href: '#/supplies/audit' }, 'All dates')) : null, out, table);
    await table.ready;
  },
};
