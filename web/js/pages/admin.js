// Account administration (SPEC A1), for admins: list, create, rename, change role, deactivate.

import { h, show, busyForm, field, pagedTable, problem, notice, clipped } from '../dom.js';
import { get, post, patch, query } from '../api.js';
import { timestamp } from '../format.js';

// A client is a customer, not an employee (SPEC Roles); admins may open their accounts too.
const ROLES = ['worker', 'accountant', 'manager', 'admin', 'client'];

function roleSelect(name, selected, label) {
  return h('select', { name, 'aria-label': label },
    ROLES.map((r) => h('option', { value: r, selected: r === selected }, r)));
}

export async function render(main, { claims }) {
  const out = h('div', { 'aria-live': 'polite', 'data-testid': 'admin-out' });
  const list = h('div');

  function row(account) {
    const who = account.email;
    const name = h('input', { name: 'full_name', value: account.full_name, title: account.full_name, 'aria-label': `Name of ${who}`, required: true, maxlength: 200, size: 18 });
    const role = roleSelect('role', account.role, `Role of ${who}`);
    const act = (what, work) => async (event) => {
      const button = event.currentTarget;
      button.disabled = true;
      show(out);
      try {
        const changed = await work();
        show(out, notice(`${who}: ${what}.`));
        Object.assign(account, changed);
        refresh();
      } catch (error) {
        show(out, problem(error));
      } finally {
        button.disabled = false;
      }
    };
    const self = account.account_id === claims.sub;
    return {
      email: clipped(who, { 'data-email': who }),
      name: h('span', null, name, ' ', h('button', { type: 'button', class: 'secondary', 'aria-label': `Rename ${who}`,
        onclick: act('renamed', () => patch(`/accounts/${account.account_id}`, { full_name: name.value.trim() })) }, 'Rename')),
      role: h('span', null, role, ' ', h('button', { type: 'button', class: 'secondary', 'aria-label': `Change the role of ${who}`,
        onclick: act('role changed', () => patch(`/accounts/${account.account_id}`, { role: role.value })) }, 'Change role')),
      active: account.active
        ? h('span', null, 'active ', self ? null : h('button', { type: 'button', class: 'danger', 'aria-label': `Deactivate ${who}`,
          onclick: (event) => {
            // eslint-disable-next-line no-alert
            if (window.confirm(`Deactivate ${who}? They can no longer sign in; their tasks stay assigned until a shuffle.`)) {
              act('deactivated', () => post(`/accounts/${account.account_id}/deactivate`))(event);
            }
          } }, 'Deactivate'))
        : h('strong', { class: 'neg' }, 'deactivated'),
    };
  }

  function refresh() {
    const table = pagedTable({
      caption: 'Accounts by email',
      columns: [
        { title: 'Email', cell: (r) => r.email },
        { title: 'Name', cell: (r) => r.name },
        { title: 'Role', cell: (r) => r.role },
        { title: 'Active', cell: (r) => r.active },
        { title: 'Since', cell: (r) => r.since },
      ],
      load: async (cursor) => {
        const page = await get(`/accounts${query({ limit: 50, cursor })}`);
        return { rows: page.accounts.map((a) => ({ ...row(a), since: h('time', { datetime: a.created_at }, timestamp(a.created_at)) })), next: page.next_cursor };
      },
    });
    show(list, table);
    return table.ready;
  }

  const createOut = h('div', { 'aria-live': 'polite' });
  const create = busyForm(h('form', { 'aria-labelledby': 'create-account' },
    field('Email', h('input', { name: 'email', type: 'email', required: true, autocomplete: 'off' })),
    field('Full name', h('input', { name: 'full_name', required: true, maxlength: 200 })),
    field('Role', roleSelect('role', 'worker')),
    field('Password (optional, 12+ characters; without one they sign in with mailed codes)',
      h('input', { name: 'password', type: 'password', minlength: 12, maxlength: 128, autocomplete: 'new-password' })),
    h('button', { type: 'submit' }, 'Create account')), createOut, async (data) => {
    const body = { email: data.get('email').trim(), full_name: data.get('full_name').trim(), role: data.get('role') };
    if (data.get('password')) body.password = data.get('password');
    const account = await post('/accounts', body);
    create.reset();
    show(createOut, notice(`Created ${account.email} (${account.role}).`));
    await refresh();
  });

  show(main, h('h1', null, 'Accounts'),
    h('section', { 'aria-labelledby': 'create-account' }, h('h2', { id: 'create-account' }, 'Create an account'), create, createOut),
    h('section', { 'aria-labelledby': 'all-accounts' }, h('h2', { id: 'all-accounts' }, 'All accounts'), out, list));
  await refresh();
}
