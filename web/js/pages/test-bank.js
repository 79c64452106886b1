// The test bank (SPEC M1), for managers and admins: questions with scored options, tests (a set
// of questions) and profiles (tests, a pass mark, the days to answer), which is what a worker
// applicant is given. Each is added, revised (a new revision: papers given earlier keep theirs)
// and retired (never given again).

import { h, show, busyForm, field, problem, notice, named, clipped } from '../dom.js';
import { post, put } from '../api.js';
import { timestamp } from '../format.js';
import { everything } from './hiring.js';

const MAX_OPTIONS = 8; // the API's bound (2 to 8 options)
const BLANK_OPTIONS = 4;

/** A listing as a table, with its empty state. */
function table(caption, columns, rows, empty) {
  return h('table', null, h('caption', null, caption),
    h('thead', null, h('tr', null, columns.map((c) => h('th', { scope: 'col', class: c.num ? 'num' : null }, c.title)))),
    h('tbody', null, rows.length
      ? rows.map((r) => h('tr', { class: r.retired ? 'muted' : null }, columns.map((c) => h('td', { class: c.num ? 'num' : null }, c.cell(r)))))
      : h('tr', null, h('td', { colspan: columns.length, class: 'empty' }, empty))));
}

/**
 * The add-or-revise form of one kind of entry. `fill(entry)` puts an entry's values in the
 * fields (null: a blank form); `bodyOf(data)` makes the request body. One idempotency key per
 * content: a retried press after a lost answer adds once.
 */
function bankForm({ what, path, idKey, fields, fill, bodyOf, out, changed }) {
  let editing = null;
  let key = crypto.randomUUID();
  const submit = h('button', { type: 'submit' }, `Add the ${what}`);
  const cancel = h('button', { type: 'button', class: 'secondary', hidden: true, onclick: () => edit(null) }, 'Cancel');
  const form = h('form', { class: 'stack bank', 'aria-label': `Add a ${what}` }, fields, h('div', null, submit, ' ', cancel));
  form.addEventListener('input', () => { key = crypto.randomUUID(); });
  busyForm(form, out, async (data) => {
    const body = bodyOf(data);
    const headers = { 'idempotency-key': key };
    const was = editing;
    const saved = was ? await put(`${path}/${was[idKey]}`, body, { headers }) : await post(path, body, { headers });
    edit(null);
    show(out, notice(was ? `Saved revision ${saved.revision} of the ${what}.` : `Added the ${what}.`));
    await changed();
  });
  function edit(entry) {
    editing = entry;
    key = crypto.randomUUID();
    form.reset();
    fill(entry);
    submit.textContent = entry ? `Save revision ${entry.revision + 1}` : `Add the ${what}`;
    cancel.hidden = !entry;
    form.setAttribute('aria-label', entry ? `Revise the ${what}` : `Add a ${what}`);
    if (entry) {
      form.scrollIntoView({ block: 'nearest' });
      form.querySelector('input, textarea')?.focus();
    }
  }
  fill(null);
  return { form, edit };
}

/** The buttons of a listed entry: edit (into the form) and retire; none once retired. */
function entryActions({ what, name, entry, path, idKey, editor, out, changed }) {
  if (entry.retired) return h('span', { class: 'muted' }, 'retired');
  const key = crypto.randomUUID();
  const retire = h('button', { type: 'button', class: 'danger', 'aria-label': `Retire ${name}`, onclick: async () => {
    // eslint-disable-next-line no-alert
    if (!window.confirm(`Retire this ${what}? It is never given again (papers given already keep it).`)) return;
    retire.disabled = true;
    show(out);
    try {
      await post(`${path}/${entry[idKey]}/retire`, undefined, { headers: { 'idempotency-key': key } });
      show(out, notice(`Retired the ${what}.`));
      await changed();
    } catch (error) {
      retire.disabled = false;
      show(out, problem(error));
    }
  } }, 'Retire');
  return h('span', null,
    h('button', { type: 'button', class: 'secondary', 'aria-label': `Edit ${name}`, onclick: () => editor.edit(entry) }, 'Edit'), ' ', retire);
}

function pickers(name, entries, picked, label) {
  const usable = entries.filter((e) => !e.retired);
  return usable.length
    ? usable.map((e) => h('label', { class: 'inline' },
      h('input', { type: 'checkbox', name, value: e.id, checked: picked.includes(e.id) }), named(label(e))))
    : h('span', { class: 'empty' }, 'None in the bank yet.');
}

export async function render(main) {
  const bank = { questions: [], tests: [], profiles: [] };
  const lists = { questions: h('div'), tests: h('div'), profiles: h('div') };
  const outs = { questions: h('div', { 'aria-live': 'polite' }), tests: h('div', { 'aria-live': 'polite' }), profiles: h('div', { 'aria-live': 'polite' }) };
  const loadOut = h('div', { 'aria-live': 'polite' });

  // --- questions
  const questionText = h('textarea', { name: 'text', required: true, maxlength: 2000, rows: 2, cols: 50 });
  const options = h('div', { class: 'options' });
  const addOption = h('button', { type: 'button', class: 'secondary', onclick: () => { setOptions([...currentOptions(), {}]); } }, 'Add an option');
  function optionRow(i, o) {
    return h('div', { class: 'option' },
      field(`Option ${i}`, h('input', { name: 'option_text', value: o.text ?? '', maxlength: 200, size: 36 })),
      field(`Points of option ${i}`, h('input', { name: 'option_points', type: 'number', min: 0, max: 10, value: o.points ?? 0, required: true })));
  }
  function currentOptions() {
    return [...options.querySelectorAll('.option')].map((row) => ({
      text: row.querySelector('[name=option_text]').value, points: row.querySelector('[name=option_points]').value }));
  }
  function setOptions(list) {
    show(options, list.map((o, i) => optionRow(i + 1, o)));
    addOption.disabled = list.length >= MAX_OPTIONS;
  }
  const questionEditor = bankForm({
    what: 'question', path: '/hiring/questions', idKey: 'question_id', out: outs.questions, changed: reload,
    fields: [field('Question', questionText),
      h('p', { class: 'muted' }, '2 to 8 options, 0 to 10 points each (blank options are left out). Several may score: '
        + 'a question scores the points of the options chosen, and nothing once a 0-point option is chosen.'),
      options, h('div', null, addOption)],
    fill: (q) => {
      questionText.value = q?.text ?? '';
      setOptions(q ? q.options : Array.from({ length: BLANK_OPTIONS }, () => ({})));
    },
    bodyOf: (data) => {
      const points = data.getAll('option_points');
      return {
        text: data.get('text').trim(),
        options: data.getAll('option_text').map((text, i) => ({ text: text.trim(), points: Number(points[i]) }))
          .filter((o) => o.text !== ''),
      };
    },
  });

  // --- tests
  const testTitle = h('input', { name: 'title', required: true, maxlength: 200, size: 40 });
  const questionPicker = h('fieldset', null);
  function pickQuestions(picked) {
    show(questionPicker, h('legend', null, 'Questions'), pickers('question_ids', bank.questions.map((q) => ({ ...q, id: q.question_id })), picked, (q) => q.text));
  }
  const testEditor = bankForm({
    what: 'test', path: '/hiring/tests', idKey: 'test_id', out: outs.tests, changed: reload,
    fields: [field('Title', testTitle), questionPicker],
    fill: (t) => { testTitle.value = t?.title ?? ''; pickQuestions(t?.question_ids ?? []); },
    bodyOf: (data) => ({ title: data.get('title').trim(), question_ids: data.getAll('question_ids') }),
  });

  // --- profiles
  const profileName = h('input', { name: 'name', required: true, maxlength: 200, size: 40 });
  const passMark = h('input', { name: 'pass_mark', type: 'number', min: 0, required: true });
  const days = h('input', { name: 'time_limit_days', type: 'number', min: 1, max: 30, required: true });
  const testPicker = h('fieldset', null);
  function pickTests(picked) {
    show(testPicker, h('legend', null, 'Tests'), pickers('test_ids', bank.tests.map((t) => ({ ...t, id: t.test_id })), picked, (t) => t.title));
  }
  const profileEditor = bankForm({
    what: 'profile', path: '/hiring/profiles', idKey: 'profile_id', out: outs.profiles, changed: reload,
    fields: [field('Name', profileName), testPicker,
      field('Pass mark (points, at most the tests\' maximum)', passMark), field('Days to answer (1 to 30)', days)],
    fill: (p) => {
      profileName.value = p?.name ?? '';
      passMark.value = p?.pass_mark ?? '';
      days.value = p?.time_limit_days ?? 7;
      pickTests(p?.test_ids ?? []);
    },
    bodyOf: (data) => ({
      name: data.get('name').trim(), test_ids: data.getAll('test_ids'),
      pass_mark: Number(data.get('pass_mark')), time_limit_days: Number(data.get('time_limit_days')),
    }),
  });

  function renderLists() {
    const questionTexts = new Map(bank.questions.map((q) => [q.question_id, q.text]));
    const testTitles = new Map(bank.tests.map((t) => [t.test_id, t.title]));
    const updated = { title: 'Changed', cell: (e) => h('time', { datetime: e.updated_at }, timestamp(e.updated_at)) };
    const revision = { title: 'Revision', num: true, cell: (e) => e.revision };
    show(lists.questions, table('Every question, newest first', [
      { title: 'Question', cell: (q) => h('div', { 'data-question-id': q.question_id }, named(q.text),
        h('ul', { class: 'choices' }, q.options.map((o) => h('li', null, named(o.text), h('span', { class: 'muted' }, ` ${o.points} pt`))))) },
      revision, updated,
      { title: 'Actions', cell: (q) => entryActions({ what: 'question', name: q.text, entry: q, path: '/hiring/questions', idKey: 'question_id', editor: questionEditor, out: outs.questions, changed: reload }) },
    ], bank.questions, 'No questions yet: add the first above.'));
    show(lists.tests, table('Every test, newest first', [
      { title: 'Title', cell: (t) => named(t.title, { 'data-test-id': t.test_id }) },
      { title: 'Questions', cell: (t) => h('ol', { class: 'choices' }, t.question_ids.map((id) => h('li', null, clipped(questionTexts.get(id) ?? id)))) },
      revision, updated,
      { title: 'Actions', cell: (t) => entryActions({ what: 'test', name: t.title, entry: t, path: '/hiring/tests', idKey: 'test_id', editor: testEditor, out: outs.tests, changed: reload }) },
    ], bank.tests, 'No tests yet: add questions, then a test of them.'));
    show(lists.profiles, table('Every profile, newest first', [
      { title: 'Name', cell: (p) => named(p.name, { 'data-profile-id': p.profile_id }) },
      { title: 'Tests', cell: (p) => h('ul', { class: 'choices' }, p.test_ids.map((id) => h('li', null, clipped(testTitles.get(id) ?? id)))) },
      { title: 'Pass mark', num: true, cell: (p) => `${p.pass_mark} of ${p.max_score}` },
      { title: 'Days', num: true, cell: (p) => p.time_limit_days },
      revision, updated,
      { title: 'Actions', cell: (p) => entryActions({ what: 'profile', name: p.name, entry: p, path: '/hiring/profiles', idKey: 'profile_id', editor: profileEditor, out: outs.profiles, changed: reload }) },
    ], bank.profiles, 'No profiles yet: a profile is what an applicant is given.'));
  }

  /** The whole bank again (it is small), so the lists and the pickers agree after any change. */
  async function reload() {
    try {
      const [questions, tests, profiles] = await Promise.all([
        everything('/hiring/questions', 'questions'), everything('/hiring/tests', 'tests'), everything('/hiring/profiles', 'profiles')]);
      Object.assign(bank, { questions, tests, profiles });
    } catch (error) {
      show(loadOut, problem(error));
      return;
    }
    show(loadOut);
    // Keep what the pickers have ticked (a retired entry drops out: it cannot be in a new revision).
    pickQuestions([...questionPicker.querySelectorAll('input:checked')].map((i) => i.value));
    pickTests([...testPicker.querySelectorAll('input:checked')].map((i) => i.value));
    renderLists();
  }

  const section = (id, title, editor, what) => h('section', { 'aria-labelledby': id },
    h('h2', { id }, title), editor.form, outs[what], lists[what]);
  show(main, h('h1', null, 'Test bank'),
    h('p', null, 'A worker applicant is given a profile: its tests\' questions, a pass mark and the days to answer. '
      + 'Editing makes a new revision; a test given already keeps the revision it had.'),
    loadOut,
    section('bank-questions', 'Questions', questionEditor, 'questions'),
    section('bank-tests', 'Tests', testEditor, 'tests'),
    section('bank-profiles', 'Profiles', profileEditor, 'profiles'));
  await reload();
}
