// My account (GET /auth/me), a client's page: who they are to UberPopug. Clients are customers,
// not employees (SPEC Roles): no tracker, no money pages; they order services (SPEC M2).

import { h, show, problem, clipped } from '../dom.js';
import { get } from '../api.js';
import { timestamp } from '../format.js';

export async function render(main) {
  const body = h('div', { 'aria-live': 'polite' });
  show(main, h('h1', null, 'My account'), body);
  try {
    const me = await get('/auth/me');
    show(body,
      h('table', null, h('caption', null, 'Your account'), h('tbody', null,
        [['Name', clipped(me.full_name, { 'data-testid': 'my-name' })],
          ['Email', clipped(me.email)],
          ['Role', h('span', { 'data-testid': 'my-role' }, me.role)],
          ['Since', h('time', { datetime: me.created_at }, timestamp(me.created_at))],
        ].map(([k, v]) => h('tr', null, h('th', { scope: 'row' }, k), h('td', null, v))))),
      h('p', null, 'You sign in with a code mailed to this address. ',
        h('a', { href: '#/order' }, 'Order a service'), ', or follow ', h('a', { href: '#/orders/mine' }, 'your orders'), '.'));
  } catch (error) {
    show(body, problem(error));
  }
}
