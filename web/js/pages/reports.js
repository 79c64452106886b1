// Reports and quality (SPEC M6). On an order's page: its pre-report and report with their
// images (its client, its executor, managers, admins), and the executor's forms to file them;
// the images go straight to the bucket through presigned PUTs, never through the API. QA cases
// (#/qa-cases, managers and admins): open one for an order, close it with a verdict.

import { h, show, busyForm, field, pagedTable, problem, notice, clipped } from '../dom.js';
import { get, post, query } from '../api.js';
import { timestamp, idTail } from '../format.js';

const IMAGE_TYPES = ['image/jpeg', 'image/png'];
const MAX_IMAGE_BYTES = 10 * 1024 * 1024;
const VERDICTS = {
  ok: 'ok: the work was fine',
  worker_at_fault: 'worker at fault (fines the worker on an approved order)',
  client_at_fault: 'client at fault (waives a decline\'s fine)',
};

function when(iso) {
  return iso ? h('time', { datetime: iso }, timestamp(iso)) : h('span', { class: 'muted' }, '—');
}

/** Uploads each image through its presigned PUT; answers their attachment ids. */
async function upload(orderId, files) {
  const ids = [];
  for (const file of files) {
    if (!IMAGE_TYPES.includes(file.type) || file.size > MAX_IMAGE_BYTES) {
      throw new Error(`${file.name}: only JPEG or PNG images up to 10 MB`);
    }
    const slot = await post(`/reports/${orderId}/attachments`, { content_type: file.type, size_bytes: file.size });
    // The type, the length and the tag are signed: the bucket refuses anything else.
    const put = await fetch(slot.upload_url, {
      method: 'PUT', body: file, headers: { 'content-type': file.type, 'x-amz-tagging': 'cited=false' },
    });
    if (!put.ok) throw new Error(`${file.name}: the upload was refused (HTTP ${put.status})`);
    ids.push(slot.attachment_id);
  }
  return ids;
}

function filed(title, report) {
  if (!report) return null;
  return h('article', { 'data-testid': `filed-${title.toLowerCase().replace(/\W+/g, '-')}` },
    h('h3', null, title, ' ', h('span', { class: 'muted' }, '— ', when(report.submitted_at))),
    h('p', { class: 'wrap' }, report.text),
    report.attachments.length
      ? h('ul', { class: 'photos' }, report.attachments.map((a) => h('li', null,
        h('a', { href: a.url, target: '_blank', rel: 'noopener' },
          h('img', { src: a.url, alt: `Photo ${idTail(a.attachment_id)} of the ${title.toLowerCase()}`, width: 160 })))))
      : h('p', { class: 'muted' }, 'No photos.'));
}

/** The executor's form for the pre-report (`pending`) or the report (`in_work`). */
function fileForm(order, kind, out, reload) {
  const title = kind === 'pre-report' ? 'File the pre-report' : 'File the report';
  const hint = kind === 'pre-report'
    ? 'When you are at the address with the kit (at most 30 minutes before the slot): the work begins.'
    : 'When the work is done: the client approves or declines it.';
  return busyForm(h('form', { 'aria-label': title },
    h('p', null, hint),
    field('What you found or did', h('textarea', { name: 'text', required: true, maxlength: 4000, rows: 3, cols: 50 })),
    field('Photos (JPEG or PNG, up to 10 MB each)', h('input', { name: 'photos', type: 'file', accept: IMAGE_TYPES.join(','), multiple: true })),
    h('button', { type: 'submit' }, title)), out, async (data) => {
    const photos = data.getAll('photos').filter((f) => f && f.size > 0);
    const attachments = await upload(order.order_id, photos);
    await post(`/reports/${order.order_id}/${kind}`, { text: data.get('text').trim(), attachments });
    await reload(kind === 'pre-report' ? 'Pre-report filed: the work begins.' : 'Report filed: the client decides.');
  });
}

/** The order page's reports section: what was filed, and the executor's next form. */
export async function section(order, claims, reload) {
  const out = h('div', { 'aria-live': 'polite' });
  let reports = null;
  try {
    reports = await get(`/reports/${order.order_id}`);
  } catch (error) {
    if (error?.status !== 404) show(out, problem(error));
  }
  const mine = order.executor_id === claims.sub;
  const form = !mine ? null
    : order.places.includes('pending') && !reports?.pre_report ? fileForm(order, 'pre-report', out, reload)
      : order.places.includes('in_work') && !reports?.report ? fileForm(order, 'report', out, reload)
        : null;
  const parts = [filed('Pre-report', reports?.pre_report), filed('Report', reports?.report)].filter(Boolean);
  if (!parts.length && !form) return null;
  return h('section', { 'aria-labelledby': 'reports' }, h('h2', { id: 'reports' }, 'Reports'),
    parts.length ? parts : h('p', { class: 'muted' }, 'Nothing filed yet.'), form, out);
}

/** QA cases (#/qa-cases?status=), managers and admins. */
export async function render(main, context, said = null) {
  const params = context.query;
  const status = ['open', 'closed'].includes(params.get('status')) ? params.get('status') : '';
  const out = h('div', { 'aria-live': 'polite', 'data-testid': 'qa-out' });
  const open = busyForm(h('form', { 'aria-label': 'Open a QA case' },
    field('Order id', h('input', { name: 'order_id', required: true, pattern: '[0-9a-fA-F-]{36}', size: 38 })),
    h('button', { type: 'submit' }, 'Open a case')), out, async (data) => {
    const opened = await post('/reports/qa-cases', { order_id: data.get('order_id').trim() });
    await render(main, context, `Opened case ${idTail(opened.case_id)}.`);
  });
  const filter = h('p', null, 'Show: ',
    [['', 'all'], ['open', 'open'], ['closed', 'closed']].map(([value, label]) => (value === status
      ? h('strong', null, label, ' ')
      : h('span', null, h('a', { href: `#/qa-cases${query({ status: value })}` }, label), ' '))));
  const table = pagedTable({
    caption: `QA cases${status ? `, ${status}` : ''}, newest first`,
    empty: `No ${status || ''} QA cases.`.replace('  ', ' '),
    columns: [
      { title: 'Order', cell: (c) => h('a', { href: `#/orders/${c.order_id}` }, h('code', { title: c.order_id }, idTail(c.order_id))) },
      { title: 'Why', cell: (c) => c.cause },
      { title: 'Opened', cell: (c) => when(c.opened_at) },
      { title: 'Status', cell: (c) => h('span', { 'data-testid': 'case-status' }, c.status) },
      { title: 'Verdict', cell: (c) => (c.status === 'open' ? closeForm(c) : h('span', null, c.verdict, c.notes ? h('div', { class: 'muted' }, clipped(c.notes)) : null)) },
    ],
    load: async (cursor) => {
      const page = await get(`/reports/qa-cases${query({ status, limit: 50, cursor })}`);
      return { rows: page.cases, next: page.next_cursor };
    },
  });

  function closeForm(c) {
    const mine = h('div', { 'aria-live': 'polite' });
    return busyForm(h('form', { 'aria-label': `Close the case of order ${idTail(c.order_id)}` },
      field('Verdict', h('select', { name: 'verdict', required: true },
        Object.entries(VERDICTS).map(([v, label]) => h('option', { value: v }, label)))),
      field('Notes', h('textarea', { name: 'notes', required: true, maxlength: 2000, rows: 2, cols: 30 })),
      h('button', { type: 'submit' }, 'Close the case'), mine), mine, async (data) => {
      await post(`/reports/qa-cases/${c.case_id}/report`, { verdict: data.get('verdict'), notes: data.get('notes').trim() });
      await render(main, context, `Closed the case of order ${idTail(c.order_id)}: ${data.get('verdict')}.`);
    });
  }

  show(main, h('h1', null, 'QA cases'),
    h('p', null, 'Every declined order gets a case, and every week a random 5 % of the approved ones; open one for any order. '
      + 'A worker at fault on an approved order is fined 40 % of its list price; a client at fault (or ok) on a declined order waives the decline\'s fine.'),
    open, filter, out, table);
  if (said) show(out, notice(said));
  await table.ready;
}
