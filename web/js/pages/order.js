// Order a service (#/order), a client's page (SPEC M2, M3): one of the active service types,
// the estimate the calculator would give now, what, where and when; one order per submit,
// however often it is pressed or retried (Idempotency-Key).

import { h, show, busyForm, field, problem, notice } from '../dom.js';
import { get, post, query } from '../api.js';
import { dollars, localInput, instantFromLocal, timestamp } from '../format.js';

const MINUTE_MS = 60 * 1000;
const DAY_MS = 24 * 60 * MINUTE_MS;

/** Every active service type, following the cursor; with the slots that may be booked
 * (`{notice_minutes, horizon_days}`, as the API validates them). */
export async function activeServiceTypes() {
  const all = [];
  let cursor = null;
  let slots = null;
  for (let pages = 0; pages < 50; pages += 1) {
    const page = await get(`/orders/service-types${query({ limit: 100, cursor })}`);
    all.push(...page.service_types);
    slots = page.slots;
    cursor = page.next_cursor;
    if (!cursor) break;
  }
  return { types: all, slots };
}

/** "2 hours", "1 minute": a notice as people say it. */
function spoken(minutes) {
  const [n, unit] = minutes % 60 === 0 ? [minutes / 60, 'hour'] : [minutes, 'minute'];
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

export async function render(main) {
  const out = h('div', { 'aria-live': 'polite', 'data-testid': 'order-form-out' });
  const body = h('div');
  show(main, h('h1', null, 'Order a service'), body);
  let types;
  let slots;
  try {
    ({ types, slots } = await activeServiceTypes());
  } catch (error) {
    show(body, problem(error));
    return;
  }
  if (types.length === 0) {
    show(body, notice('No services are offered yet. Please come back later.'));
    return;
  }

  const quote = h('div', { 'aria-live': 'polite', 'data-testid': 'quote' });
  const select = h('select', { name: 'service_type_id', required: true },
    types.map((t) => h('option', { value: t.service_type_id }, t.name)));
  const now = Date.now();
  // The API takes a slot from its notice (SPEC: 2 hours) to its horizon ahead; the browser says
  // so before it is asked, a minute inside each end for the time the form takes to fill.
  const slotInput = h('input', {
    name: 'slot_start', type: 'datetime-local', required: true,
    min: localInput(new Date(now + (slots.notice_minutes + 1) * MINUTE_MS)),
    max: localInput(new Date(now + slots.horizon_days * DAY_MS - MINUTE_MS)),
  });
  const form = h('form', { class: 'stack', 'aria-labelledby': 'what' },
    field('Service', select),
    quote,
    field('What to do (description)', h('textarea', { name: 'description', required: true, maxlength: 2000, rows: 3 })),
    field('Address', h('input', { name: 'address', required: true, maxlength: 300, autocomplete: 'street-address' })),
    field(`Start of the slot (your time; ${spoken(slots.notice_minutes)} to ${slots.horizon_days} days from now)`, slotInput),
    h('button', { type: 'submit' }, 'Order'));

  // One key for what the form holds until it is ordered: a double press, or a retry after a lost
  // answer, answers the same order. A changed form is another request, with a key of its own.
  let key = crypto.randomUUID();
  form.addEventListener('input', () => { key = crypto.randomUUID(); });
  busyForm(form, out, async (data) => {
    const slotStart = instantFromLocal(data.get('slot_start'));
    if (!slotStart) throw new Error('Give the start of the slot as a date and a time.');
    const order = await post('/orders', {
      service_type_id: data.get('service_type_id'),
      description: data.get('description').trim(),
      address: data.get('address').trim(),
      slot_start: slotStart,
    }, { headers: { 'idempotency-key': key } });
    key = crypto.randomUUID();
    form.reset();
    await showQuote();
    show(out, notice(h('span', null, `Ordered ${order.service_type_name} for ${timestamp(order.slot_start)}. `,
      h('a', { href: `#/orders/${order.order_id}`, 'data-order-id': order.order_id }, 'Follow the order'),
      ' or see ', h('a', { href: '#/orders/mine' }, 'all your orders'), '.')));
  });

  async function showQuote() {
    const id = select.value;
    const type = types.find((t) => t.service_type_id === id);
    show(quote, h('p', { class: 'muted' }, 'Asking for the estimate…'));
    try {
      const q = await get(`/calculator/quote${query({ service_type_id: id })}`);
      if (select.value !== id) return; // another type was chosen meanwhile
      show(quote, h('div', { class: 'notice quote' },
        type?.description ? h('p', { class: 'wrap' }, type.description) : null,
        h('p', null, `Takes about ${type?.duration_minutes ?? '?'} minutes. Base price ${dollars(q.base_price_cents)}`,
          q.discount_pct ? `, less your ${q.discount_pct} % loyalty discount` : '', ': estimate ',
          h('strong', { 'data-testid': 'estimate' }, dollars(q.estimate_cents)), '.'),
        h('p', { class: 'muted' }, 'The price is set once an executor is found: by their level, from 90 % to 120 % of the base price, less your discount.')));
    } catch (error) {
      if (select.value === id) show(quote, problem(error));
    }
  }
  select.addEventListener('change', showQuote);
  show(body, h('h2', { id: 'what' }, 'What, where and when'), form, out);
  await showQuote();
}
