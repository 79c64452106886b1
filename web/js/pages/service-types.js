// Service types (SPEC M2), managers and admins: what clients may order. List the active ones (or
// the retired), add one, change one (only the fields changed are sent), retire one.

import { h, show, busyForm, field, pagedTable, problem, notice, named } from '../dom.js';
import { get, post, patch, query } from '../api.js';
import { dollars, dollarsInput, centsFromDollars, timestamp } from '../format.js';

const MAX_SUPPLY_LINES = 20;

function supplies(list) {
  if (!list?.length) return h('span', { class: 'muted' }, 'none');
  return h('ul', { class: 'choices' }, list.map((s) => h('li', null, `${s.item} × ${s.quantity}`)));
}

/** One supply line's inputs (item and quantity), numbered for their labels. */
function supplyLine(n, line = { item: '', quantity: '' }) {
  return h('div', { class: 'option supply-line' },
    field(`Supply ${n}: item`, h('input', { name: 'item', maxlength: 100, size: 20, value: line.item })),
    field(`Supply ${n}: quantity`, h('input', { name: 'quantity', type: 'number', min: 1, max: 100, step: 1, size: 4, value: String(line.quantity) })));
}

/**
 * The type's fields as a form (`type` given: an edit, starting from its values). `submit(fields)`
 * gets every field, parsed; a bad amount or a half-filled supply line is refused here.
 */
function typeForm({ label, button, type = null, out, submit }) {
  const lines = h('div', { class: 'options' },
    (type?.supplies?.length ? type.supplies : [undefined]).map((line, i) => supplyLine(i + 1, line)));
  const add = h('button', { type: 'button', class: 'secondary', onclick: () => {
    const n = lines.children.length + 1;
    if (n > MAX_SUPPLY_LINES) return;
    lines.append(supplyLine(n));
    lines.lastElementChild.querySelector('input').focus();
  } }, 'Add a supply line');
  const form = h('form', { class: 'stack bank', 'aria-label': label },
    field('Name', h('input', { name: 'name', required: true, maxlength: 100, value: type?.name ?? '' })),
    field('Description (optional)', h('textarea', { name: 'description', maxlength: 2000, rows: 2, value: type?.description ?? '' })),
    field('Base price in dollars ($1.00 to $10,000.00)', h('input', {
      name: 'price', required: true, inputmode: 'decimal', size: 12, placeholder: '120.00',
      pattern: '\\$?[0-9][0-9,]*(\\.[0-9]{1,2})?', value: type ? dollarsInput(type.base_price_cents) : '',
    })),
    field('Required skill (a worker\'s skill tag, e.g. window-cleaning)', h('input', {
      name: 'required_skill', required: true, maxlength: 40, pattern: '[a-z0-9][a-z0-9\\-]{0,39}', value: type?.required_skill ?? '',
    })),
    field('Duration in minutes (15 to 1440)', h('input', {
      name: 'duration_minutes', type: 'number', required: true, min: 15, max: 1440, step: 1, value: type ? String(type.duration_minutes) : '',
    })),
    h('fieldset', null, h('legend', null, 'Supplies for each order (empty lines are left out)'), lines, add),
    h('button', { type: 'submit' }, button));
  return busyForm(form, out, async (data) => {
    const cents = centsFromDollars(data.get('price'));
    if (cents === null) throw new Error('The base price is an amount of dollars, like 120 or 120.50.');
    const items = data.getAll('item');
    const quantities = data.getAll('quantity');
    const list = [];
    items.forEach((item, i) => {
      const name = item.trim();
      const quantity = quantities[i].trim();
      if (!name && !quantity) return;
      if (!name || !/^\d+$/.test(quantity)) throw new Error(`Supply ${i + 1} needs both an item and a whole quantity.`);
      list.push({ item: name, quantity: Number(quantity) });
    });
    await submit({
      name: data.get('name').trim(),
      description: data.get('description').trim(),
      base_price_cents: cents,
      required_skill: data.get('required_skill').trim(),
      duration_minutes: Number(data.get('duration_minutes')),
      supplies: list,
    }, form);
  });
}

/** The fields of `after` that differ from `before` (supplies compared as a whole). */
function changed(before, after) {
  const out = {};
  for (const [k, v] of Object.entries(after)) {
    if (JSON.stringify(before[k]) !== JSON.stringify(v)) out[k] = v;
  }
  return out;
}

export async function render(main, { query: params, go }) {
  const retired = params.get('retired') === 'true';
  const out = h('div', { 'aria-live': 'polite', 'data-testid': 'types-out' });
  const list = h('div');
  const editing = h('div');

  const toggle = h('input', { type: 'checkbox', name: 'retired', checked: retired });
  toggle.addEventListener('change', () => go(`/service-types${toggle.checked ? '?retired=true' : ''}`));

  async function refresh() {
    const table = pagedTable({
      caption: retired ? 'Retired service types, newest first' : 'Active service types (clients choose from these), newest first',
      empty: retired ? 'No retired service types.' : 'No service types yet: add the first below.',
      columns: [
        { title: 'Name', cell: (t) => named(t.name, { 'data-service-type-id': t.service_type_id }) },
        { title: 'Description', cell: (t) => (t.description ? h('span', { class: 'wrap' }, t.description) : h('span', { class: 'muted' }, '—')) },
        { title: 'Base price', cell: (t) => dollars(t.base_price_cents), num: true },
        { title: 'Skill', cell: (t) => h('code', null, t.required_skill) },
        { title: 'Minutes', cell: (t) => String(t.duration_minutes), num: true },
        { title: 'Supplies', cell: (t) => supplies(t.supplies) },
        { title: 'Revision', cell: (t) => h('span', { title: `changed ${timestamp(t.updated_at)}` }, String(t.revision)), num: true },
        { title: 'Action', cell: (t) => (t.active ? h('div', { class: 'actions' }, editButton(t), retireButton(t)) : h('span', { class: 'muted' }, 'retired')) },
      ],
      load: async (cursor) => {
        const page = await get(`/orders/service-types${query({ retired: retired ? 'true' : null, limit: 50, cursor })}`);
        return { rows: page.service_types, next: page.next_cursor };
      },
    });
    show(list, table);
    await table.ready;
  }

  function editButton(type) {
    return h('button', { type: 'button', class: 'secondary', 'aria-label': `Edit ${type.name}`, onclick: () => {
      show(out);
      const form = typeForm({
        label: `Edit ${type.name}`, button: 'Save the changes', type, out,
        submit: async (fields) => {
          const before = { ...type, description: type.description ?? '' };
          const body = changed(before, fields);
          if (Object.keys(body).length === 0) {
            show(out, notice('Nothing changed.'));
            return;
          }
          const saved = await patch(`/orders/service-types/${type.service_type_id}`, body);
          show(editing);
          show(out, notice(`Saved ${saved.name}: revision ${saved.revision} (${Object.keys(body).join(', ')} changed).`));
          await refresh();
        },
      });
      const cancel = h('button', { type: 'button', class: 'secondary', onclick: () => show(editing) }, 'Stop editing');
      show(editing, h('section', { 'aria-labelledby': 'edit' }, h('h2', { id: 'edit' }, `Edit ${type.name}`),
        h('p', null, 'Orders made before keep the type as it was ordered.'), form, cancel));
      form.querySelector('input').focus();
    } }, 'Edit');
  }

  function retireButton(type) {
    return h('button', { type: 'button', class: 'danger', 'aria-label': `Retire ${type.name}`, onclick: async (event) => {
      const button = event.currentTarget;
      if (!window.confirm(`Retire ${type.name}? Clients can no longer order it; orders made keep it.`)) return;
      button.disabled = true;
      show(out);
      try {
        await post(`/orders/service-types/${type.service_type_id}/retire`);
        show(out, notice(`Retired ${type.name}.`));
        show(editing);
        await refresh();
      } catch (error) {
        button.disabled = false;
        show(out, problem(error));
      }
    } }, 'Retire');
  }

  // One key for what the form holds until it is added: a retried press adds one type.
  let key = crypto.randomUUID();
  const create = typeForm({
    label: 'Add a service type', button: 'Add the service type', out,
    submit: async (fields, form) => {
      const body = { ...fields };
      if (!body.description) delete body.description;
      const created = await post('/orders/service-types', body, { headers: { 'idempotency-key': key } });
      key = crypto.randomUUID();
      form.reset();
      show(out, notice(`Added ${created.name} (${dollars(created.base_price_cents)}, skill ${created.required_skill}).`));
      await refresh();
    },
  });
  create.addEventListener('input', () => { key = crypto.randomUUID(); });

  show(main, h('h1', null, 'Service types'),
    h('p', null, 'What clients may order: each needs a worker with its skill, and its supplies come with every order.'),
    h('label', { class: 'inline' }, toggle, 'Show the retired ones instead'),
    out, list, editing,
    retired ? null : h('section', { 'aria-labelledby': 'add' }, h('h2', { id: 'add' }, 'Add a service type'), create));
  await refresh();
}
