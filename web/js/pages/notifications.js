// Notifications: the messages sent to me (daily statements, my application's mails, the
// marketplace's news) and their status; admins see everyone's, applicants' and the supply desk's
// included, a parked message with why it failed. Managers and admins write to someone here
// (POST /notifications/messages: sent now, answered with its status).

import { h, show, pagedTable, clipped, named, busyForm, field, notice } from '../dom.js';
import { get, post, query } from '../api.js';
import { timestamp } from '../format.js';

const KIND = {
  daily_statement: 'daily statement',
  application_received: 'application received',
  test_assigned: 'test assigned',
  application_accepted: 'application accepted',
  application_declined: 'application declined',
  order_matched: 'order: executor matched',
  order_pending: 'order: ready for its slot',
  order_reported: 'order: reported, approve or decline',
  kit_to_hand_out: 'kit to hand out',
  invoice_issued: 'invoice issued',
  invoice_paid: 'invoice paid',
  invoice_declined: 'invoice declined',
  monthly_statement: 'monthly statement',
  direct: 'a message from staff',
};

const WRITERS = ['manager', 'admin'];

const STATUS = {
  sent: 'sent',
  sending: 'sending',
  retrying: 'not taken yet; will be tried again',
  failed: 'failed; waits in the dead-letter queue',
};

const NONE_YET = 'No messages yet. Mails about your work, your orders, your invoices and your statements show here.';

function messages(path, caption, withRecipient, { filter = {}, empty = NONE_YET } = {}) {
  return pagedTable({
    caption,
    empty,
    columns: [
      { title: 'About', cell: (m) => KIND[m.kind] ?? m.kind },
      // Only statements have a business day.
      { title: 'Business day', cell: (m) => m.business_date ?? '—' },
      ...(withRecipient ? [{ title: 'To', cell: (m) => clipped(m.to) }] : []),
      { title: 'Subject', cell: (m) => named(m.subject) },
      { title: 'Status', cell: (m) => STATUS[m.status] ?? m.status },
      { title: 'Attempts', num: true, cell: (m) => m.attempts },
      { title: 'Sent', cell: (m) => (m.sent_at ? h('time', { datetime: m.sent_at }, timestamp(m.sent_at)) : '—') },
      // Why a message is not sent: what an admin needs to redrive it or fix its address.
      ...(withRecipient ? [{ title: 'Last error', cell: (m) => (m.last_error ? clipped(m.last_error) : '—') }] : []),
    ],
    load: async (cursor) => {
      const page = await get(path + query({ ...filter, limit: 50, cursor }));
      return { rows: page.messages, next: page.next_cursor };
    },
  });
}

/** Write to an account: sent now; the answer says whether it left. */
function writer() {
  const out = h('div', { 'aria-live': 'polite' });
  const form = h('form', { 'aria-label': 'Write a message' },
    field('To (account id)', h('input', { name: 'account_id', required: true, pattern: '[0-9a-fA-F-]{36}', size: 38, autocomplete: 'off' })),
    field('Subject', h('input', { name: 'subject', required: true, maxlength: 200, size: 50 })),
    field('Text', h('textarea', { name: 'text', required: true, maxlength: 10000, rows: 5, cols: 50 })),
    h('button', { type: 'submit' }, 'Send now'));
  // One key for what the form holds until it is sent: a retry after a lost answer sends once.
  let key = crypto.randomUUID();
  form.addEventListener('input', () => { key = crypto.randomUUID(); });
  busyForm(form, out, async (data) => {
    const sent = await post('/notifications/messages', {
      account_id: data.get('account_id').trim(),
      subject: data.get('subject'),
      text: data.get('text'),
    }, { headers: { 'idempotency-key': key } });
    show(out, notice(sent.status === 'sent'
      ? `Sent to ${sent.to}.`
      : `Not sent (${sent.last_error ?? sent.status}); send it again to retry.`, sent.status === 'sent' ? '' : 'problem'));
    if (sent.status === 'sent') {
      form.reset();
      key = crypto.randomUUID();
    }
  });
  return h('section', { 'aria-labelledby': 'write' }, h('h2', { id: 'write' }, 'Write a message'), form, out);
}

export async function render(main, { claims }) {
  const mine = messages('/notifications/mine', 'Sent to me, newest first', false);
  show(main, h('h1', null, 'Notifications'),
    WRITERS.includes(claims.role) ? writer() : null,
    h('section', { 'aria-labelledby': 'mine' }, h('h2', { id: 'mine' }, 'My messages'), mine));
  const waiting = [mine.ready];
  if (claims.role === 'admin') {
    // What waits for an admin first: the messages given up, each request in a dead-letter queue.
    const parked = messages('/notifications', 'Not delivered, the latest attempt first', true,
      { filter: { status: 'failed' }, empty: 'Nothing waits: every message was delivered or is still being tried.' });
    const everyone = messages('/notifications', 'Everyone\'s, in no particular order', true);
    main.append(
      h('section', { 'aria-labelledby': 'parked' }, h('h2', { id: 'parked' }, 'Not delivered'),
        h('p', null, 'Given up after every retry: the request waits in its dead-letter queue. Fix the cause (the address, SES) and redrive the queue: the message is sent then, once.'),
        parked),
      h('section', { 'aria-labelledby': 'everyone' }, h('h2', { id: 'everyone' }, 'Everyone\'s messages'), everyone));
    waiting.push(parked.ready, everyone.ready);
  }
  await Promise.all(waiting);
}
