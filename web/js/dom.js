// Building the page from data without HTML strings: text is always text (no innerHTML, no XSS).

/** h('button', {class: 'x', onclick: f}, 'Text', child) → an element. */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value == null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else if (key === 'value' || key === 'checked') el[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of [children].flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** Replaces an element's content. */
export function show(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/**
 * A person's name or address (one line): cut with an ellipsis when long, whole on hover.
 * No name, however long (the API allows 200 characters, the address 254), widens a table.
 */
export function clipped(text, props = {}, tag = 'span') {
  return h(tag, { ...props, class: `clip ${props.class ?? ''}`.trim(), title: text }, text);
}

/** A task's title (up to 200 characters): wraps, anywhere if it must; whole on hover too. */
export function named(text, props = {}) {
  return h('span', { ...props, class: `wrap ${props.class ?? ''}`.trim(), title: text }, text);
}

/** A problem (an ApiError or any error) as a readable alert. */
export function problem(error) {
  const title = error?.title || 'Something went wrong';
  const detail = error?.detail || (error?.title ? '' : String(error?.message ?? error));
  const status = error?.status ? ` (HTTP ${error.status})` : '';
  return h('div', { class: 'problem', role: 'alert' },
    h('strong', null, title + status), detail ? h('div', null, detail) : null);
}

export function notice(text, extraClass = '') {
  return h('div', { class: `notice ${extraClass}`.trim(), role: 'status' }, text);
}

/** Runs `work` with the form's submit button disabled; a failure is shown in `out`. */
export function busyForm(form, out, work) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const buttons = [...form.querySelectorAll('button')];
    buttons.forEach((b) => { b.disabled = true; });
    show(out);
    try {
      await work(new FormData(form), event.submitter);
    } catch (error) {
      show(out, problem(error));
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  });
  return form;
}

/** A labelled control: label text above the input. */
export function field(text, control) {
  return h('label', null, text, control);
}

const EMPTY_PAGES_FOLLOWED = 20;

/**
 * A table of rows with "Show more" for a paged listing.
 * `load(cursor)` answers {rows, next}; `columns` are [{title, cell: row => node, num?}].
 */
export function pagedTable({ caption, columns, load, empty = 'Nothing yet.' }) {
  const body = h('tbody');
  const table = h('table', null,
    caption ? h('caption', null, caption) : null,
    h('thead', null, h('tr', null, columns.map((c) => h('th', { scope: 'col', class: c.num ? 'num' : null }, c.title)))),
    body);
  const out = h('div');
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Show more');
  const box = h('div', null, table, more, out);
  let cursor = null;
  let count = 0;
  async function next() {
    more.disabled = true;
    show(out);
    try {
      // A listing that filters a scan (every task, everyone's messages) may answer a page with
      // nothing on it but a cursor: follow it a few times rather than show an empty page.
      let page;
      let hops = 0;
      do {
        page = await load(cursor);
        cursor = page.next ?? null;
        hops += 1;
      } while (page.rows.length === 0 && cursor && hops < EMPTY_PAGES_FOLLOWED);
      for (const row of page.rows) {
        body.append(h('tr', null, columns.map((c) => h('td', { class: c.num ? 'num' : null }, c.cell(row)))));
      }
      count += page.rows.length;
      more.hidden = !cursor;
      if (count === 0 && !cursor) show(body, h('tr', null, h('td', { colspan: columns.length, class: 'empty' }, empty)));
    } catch (error) {
      show(out, problem(error));
    } finally {
      more.disabled = false;
    }
  }
  more.addEventListener('click', next);
  box.ready = next();
  return box;
}
