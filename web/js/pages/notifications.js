// Notifications: the messages sent to me (daily statements, my application's mails) and their
// status; admins see everyone's, applicants' included.

import { h, show, pagedTable, clipped, named } from '../dom.js';
import { get, query } from '../api.js';
import { timestamp } from '../format.js';

const KIND = {
  daily_statement: 'daily statement',
  application_received: 'application received',
  test_assigned: 'test assigned',
  application_accepted: 'application accepted',
  application_declined: 'application declined',
};

const STATUS = {
  sent: 'sent',
  sending: 'sending',
  retrying: 'not taken yet; will be tried again',
  failed: 'failed; waits in the dead-letter queue',
};

function messages(path, caption, withRecipient) {
  return pagedTable({
    caption,
    empty: 'No messages yet. Employees are mailed a statement after each business day in which their balance moved.',
    columns: [
      { title: 'About', cell: (m) => KIND[m.kind] ?? m.kind },
      // Only statements have a business day.
      { title: 'Business day', cell: (m) => m.business_date ?? '—' },
      ...(withRecipient ? [{ title: 'To', cell: (m) => clipped(m.to) }] : []),
      { title: 'Subject', cell: (m) => named(m.subject) },
      { title: 'Status', cell: (m) => STATUS[m.status] ?? m.status },
      { title: 'Attempts', num: true, cell: (m) => m.attempts },
      { title: 'Sent', cell: (m) => (m.sent_at ? h('time', { datetime: m.sent_at }, timestamp(m.sent_at)) : '—') },
    ],
    load: async (cursor) => {
      const page = await get(path + query({ limit: 50, cursor }));
      return { rows: page.messages, next: page.next_cursor };
    },
  });
}

export async function render(main, { claims }) {
  const mine = messages('/notifications/mine', 'Sent to me, newest first', false);
  show(main, h('h1', null, 'Notifications'),
    h('section', { 'aria-labelledby': 'mine' }, h('h2', { id: 'mine' }, 'My messages'), mine));
  const waiting = [mine.ready];
  if (claims.role === 'admin') {
    const everyone = messages('/notifications', 'Everyone\'s, in no particular order', true);
    main.append(h('section', { 'aria-labelledby': 'everyone' }, h('h2', { id: 'everyone' }, 'Everyone\'s messages'), everyone));
    waiting.push(everyone.ready);
  }
  await Promise.all(waiting);
}
