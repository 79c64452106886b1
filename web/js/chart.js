// Earnings per day as an inline SVG bar chart, with the same figures as a table for screen readers.

import { h } from './dom.js';
import { dollars, moneyClass } from './format.js';

const SVG = 'http://www.w3.org/2000/svg';

function s(tag, attributes, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attributes ?? {})) el.setAttribute(k, String(v));
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

/** days: [{date, fees_cents, rewards_cents, earnings_cents}]; answers a <figure>. */
export function earningsChart(days, { title = 'Earnings per day' } = {}) {
  const width = 720;
  const height = 240;
  const pad = { left: 78, right: 10, top: 14, bottom: 28 };
  const values = days.map((d) => Number(d.earnings_cents));
  const top = Math.max(0, ...values);
  const bottom = Math.min(0, ...values);
  const span = top - bottom || 1;
  const plot = height - pad.top - pad.bottom;
  const scale = plot / span; // pixels per cent: geometry only, never money
  const zero = pad.top + top * scale;
  const step = (width - pad.left - pad.right) / Math.max(days.length, 1);
  const id = `chart-${Math.random().toString(36).slice(2)}`;

  const svg = s('svg', { class: 'chart', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-labelledby': id });
  svg.append(s('title', { id }, `${title}: ${days.length} days`));
  svg.append(s('line', { class: 'axis', x1: pad.left, x2: width - pad.right, y1: zero, y2: zero }));
  svg.append(s('text', { x: pad.left - 6, y: pad.top + 4, 'text-anchor': 'end' }, dollars(top)));
  if (bottom < 0) svg.append(s('text', { x: pad.left - 6, y: height - pad.bottom, 'text-anchor': 'end' }, dollars(bottom)));
  svg.append(s('text', { x: pad.left - 6, y: zero + 4, 'text-anchor': 'end' }, '$0.00'));

  days.forEach((day, i) => {
    const v = values[i];
    const barHeight = Math.max(Math.abs(v) * scale, v === 0 ? 0 : 1);
    const x = pad.left + i * step + step * 0.1;
    const bar = s('rect', {
      class: v < 0 ? 'bar-neg' : 'bar-pos',
      x, width: Math.max(step * 0.8, 1),
      y: v < 0 ? zero : zero - barHeight,
      height: barHeight,
      'data-date': day.date,
    }, s('title', null, `${day.date}: ${dollars(day.earnings_cents)} (fees ${dollars(day.fees_cents)}, rewards ${dollars(day.rewards_cents)})`));
    svg.append(bar);
    const labelEvery = Math.ceil(days.length / 8);
    if (i % labelEvery === 0 || i === days.length - 1) {
      svg.append(s('text', { x: x + step * 0.4, y: height - 8, 'text-anchor': 'middle' }, day.date.slice(5)));
    }
  });

  const table = h('table', null,
    h('caption', null, title),
    h('thead', null, h('tr', null,
      h('th', { scope: 'col' }, 'Date'),
      h('th', { scope: 'col', class: 'num' }, 'Fees'),
      h('th', { scope: 'col', class: 'num' }, 'Rewards'),
      h('th', { scope: 'col', class: 'num' }, 'Earnings'))),
    h('tbody', null, [...days].reverse().map((d) => h('tr', null,
      h('td', null, d.date),
      h('td', { class: 'num' }, dollars(d.fees_cents)),
      h('td', { class: 'num' }, dollars(d.rewards_cents)),
      h('td', { class: `num ${moneyClass(d.earnings_cents) ?? ''}` }, dollars(d.earnings_cents))))));

  return h('figure', { class: 'earnings' }, svg,
    h('figcaption', { class: 'muted' }, `${title}, ${days[0]?.date ?? ''} to ${days[days.length - 1]?.date ?? ''} (fees debited minus rewards credited)`),
    h('details', null, h('summary', null, 'The figures as a table'), table));
}
