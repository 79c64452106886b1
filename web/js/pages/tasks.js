// The tracker (SPEC T): my open and done tasks, complete, create; for managers and admins every
// task and the shuffle, with its progress.

import { h, show, busyForm, field, pagedTable, problem, notice, named } from '../dom.js';
import { get, post, query } from '../api.js';
import { taskName, timestamp, idTail } from '../format.js';

const MAY_SHUFFLE = ['admin', 'manager'];
const POLL_MS = 500;

function taskColumns(extra = []) {
  return [
    { title: 'Task', cell: (t) => named(taskName(t.title, t.jira_id), { 'data-task-id': t.task_id }) },
    { title: 'Description', cell: (t) => (t.description ? h('span', { class: 'wrap' }, t.description) : h('span', { class: 'muted' }, '—')) },
    { title: 'Created', cell: (t) => h('time', { datetime: t.created_at }, timestamp(t.created_at)) },
    ...extra,
  ];
}

function listing(path) {
  return async (cursor) => {
    const page = await get(path + (path.includes('?') ? '&' : '?') + query({ limit: 50, cursor }).slice(1));
    return { rows: page.tasks, next: page.next_cursor };
  };
}

export async function render(main, { claims, signal }) {
  const lists = h('div');
  function refreshLists() {
    const open = pagedTable({
      caption: 'Assigned to me, open',
      empty: 'No open tasks assigned to you.',
      columns: taskColumns([{ title: 'Action', cell: completeButton }]),
      load: listing('/tasks/mine?status=open'),
    });
    const done = pagedTable({
      caption: 'Assigned to me, done',
      empty: 'Nothing done yet.',
      columns: taskColumns([{ title: 'Done', cell: (t) => h('time', { datetime: t.completed_at }, timestamp(t.completed_at)) }]),
      load: listing('/tasks/mine?status=done'),
    });
    show(lists,
      h('section', { 'aria-labelledby': 'my-open' }, h('h2', { id: 'my-open' }, 'My open tasks'), open),
      h('section', { 'aria-labelledby': 'my-done' }, h('h2', { id: 'my-done' }, 'My done tasks'), done));
    return Promise.all([open.ready, done.ready]);
  }

  const completeOut = h('div', { 'aria-live': 'polite' });
  function completeButton(task) {
    // One key per button: pressing again after a lost answer completes the task once.
    const key = crypto.randomUUID();
    return h('button', {
      type: 'button',
      'aria-label': `Complete ${taskName(task.title, task.jira_id)}`,
      onclick: async (event) => {
        // Read now: an event's currentTarget is null once its handler has awaited.
        const button = event.currentTarget;
        button.disabled = true;
        show(completeOut);
        try {
          await post(`/tasks/${task.task_id}/complete`, undefined, { headers: { 'idempotency-key': key } });
          show(completeOut, notice(`Done: ${taskName(task.title, task.jira_id)}.`));
          await refreshLists();
        } catch (error) {
          button.disabled = false;
          show(completeOut, problem(error));
        }
      },
    }, 'Complete');
  }

  const createOut = h('div', { 'aria-live': 'polite' });
  // The key lives as long as what was typed: a retried submit of the same task creates it once.
  let createKey = crypto.randomUUID();
  const createForm = busyForm(h('form', { 'aria-labelledby': 'create' },
    field('Title', h('input', { name: 'title', required: true, maxlength: 200, size: 36, title: 'No [ or ]: the Jira id has its own field' })),
    field('Jira id (optional)', h('input', { name: 'jira_id', placeholder: 'UBERPOP-42', size: 14 })),
    field('Description (optional)', h('textarea', { name: 'description', maxlength: 4000, rows: 2, cols: 30 })),
    h('button', { type: 'submit' }, 'Create task')), createOut, async (data) => {
    const body = { title: data.get('title').trim() };
    const jira = data.get('jira_id').trim();
    if (jira) body.jira_id = jira;
    const description = data.get('description').trim();
    if (description) body.description = description;
    const task = await post('/tasks', body, { headers: { 'idempotency-key': createKey } });
    createKey = crypto.randomUUID();
    createForm.reset();
    const mine = task.assignee_id === claims.sub;
    show(createOut, notice(`Created ${taskName(task.title, task.jira_id)}, assigned to ${mine ? 'you' : `account ${idTail(task.assignee_id)}`}.`));
    await Promise.all([refreshLists(), refreshAll?.()]);
  });
  createForm.addEventListener('input', () => { createKey = crypto.randomUUID(); });

  show(main,
    h('h1', null, 'Tasks'),
    h('section', { 'aria-labelledby': 'create' }, h('h2', { id: 'create' }, 'Create a task'), createForm, createOut),
    completeOut,
    lists);

  let refreshAll = null;
  if (MAY_SHUFFLE.includes(claims.role)) {
    const all = h('div');
    refreshAll = () => {
      const table = pagedTable({
        caption: 'Every task, open and done',
        empty: 'No tasks yet.',
        columns: taskColumns([
          { title: 'Status', cell: (t) => t.status },
          { title: 'Assignee', cell: assignee },
        ]),
        load: listing('/tasks'),
      });
      show(all, table);
      return table.ready;
    };
    main.append(
      h('section', { 'aria-labelledby': 'shuffle' }, h('h2', { id: 'shuffle' }, 'Shuffle'), shuffler(signal, () => refreshAll())),
      h('section', { 'aria-labelledby': 'all' }, h('h2', { id: 'all' }, 'All tasks'), all));
    await Promise.all([refreshLists(), refreshAll()]);
  } else {
    await refreshLists();
  }
}

/** Who holds a task, by name (the tracker's copy of the account), the id on hover. */
function assignee(task) {
  const name = task.assignee_name;
  return name
    ? h('span', { class: 'wrap', 'data-assignee': task.assignee_id, title: `${name} (${task.assignee_id})` }, name)
    : h('code', { 'data-assignee': task.assignee_id, title: task.assignee_id }, idTail(task.assignee_id));
}

/** The shuffle button and its live progress, polled until the shuffle ends. */
function shuffler(signal, finished) {
  const status = h('div', { 'aria-live': 'polite', 'data-testid': 'shuffle-status' });
  const button = h('button', { type: 'button' }, 'Shuffle open tasks');
  button.addEventListener('click', async () => {
    button.disabled = true;
    show(status);
    try {
      let shuffle = await post('/tasks/shuffles');
      while (shuffle.status === 'running' && !signal.aborted) {
        show(status, progress(shuffle));
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        if (signal.aborted) return;
        shuffle = await get(`/tasks/shuffles/${shuffle.shuffle_id}`);
      }
      show(status, progress(shuffle));
      if (shuffle.status === 'completed') await finished();
    } catch (error) {
      show(status, problem(error));
    } finally {
      button.disabled = false;
    }
  });
  return h('div', null,
    h('p', null, 'Every open task goes to a random worker or accountant. Each reassignment charges its new assignee the task\'s fee.'),
    button, status);
}

function progress(shuffle) {
  const words = {
    running: 'Running',
    completed: 'Finished',
    stalled: 'Stalled: a page waits in the dead-letter queue; redriving it resumes the shuffle',
  };
  return h('div', { 'data-status': shuffle.status },
    h('label', { class: 'inline' }, 'Progress',
      h('progress', { max: Math.max(shuffle.total, 1), value: shuffle.total === 0 ? 1 : shuffle.reassigned })),
    h('p', null, `${words[shuffle.status] ?? shuffle.status}: ${shuffle.reassigned} of ${shuffle.total} open tasks reassigned`
      + ` (${shuffle.shards_done} of ${shuffle.shards} shards done).`));
}
