// Money and dates as the API gives them: integer cents become dollars by integer arithmetic only.

/** 123456 → "$1,234.56"; -1500 → "-$15.00". BigInt: no float ever touches a cent. */
export function dollars(cents) {
  const value = BigInt(cents);
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const whole = (abs / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const fraction = (abs % 100n).toString().padStart(2, '0');
  return `${negative ? '-' : ''}$${whole}.${fraction}`;
}

/** Dollars with the sign's colour, for tables and figures. */
export function moneyClass(cents) {
  return cents < 0 ? 'neg' : cents > 0 ? 'pos' : null;
}

/** An RFC 3339 time as the API wrote it, shortened for reading: "2026-11-21 14:03:05 UTC". */
export function timestamp(iso) {
  if (!iso) return '';
  return iso.replace('T', ' ').replace(/\.\d+/, '').replace(/Z$|\+00:00$/, ' UTC');
}

/** "YYYY-MM-DD" plus n days (calendar arithmetic on the date itself, no time zone involved). */
export function addDays(date, n) {
  const [y, m, d] = date.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

/** A task's name as people say it: "[UBERPOP-42] Fix the nest". */
export function taskName(title, jiraId) {
  if (title == null) return jiraId ? `[${jiraId}]` : '(title not known yet)';
  return jiraId ? `[${jiraId}] ${title}` : title;
}

/**
 * "1,234.5" or "$12" → 123450 or 1200: dollars typed by a person as integer cents, from the
 * digits themselves (no float ever holds a fraction of a dollar); null when it is no amount.
 */
export function centsFromDollars(text) {
  const found = /^\$?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?$/.exec(String(text).trim());
  if (!found) return null;
  const whole = BigInt(found[1].replaceAll(',', ''));
  const fraction = BigInt((found[2] ?? '').padEnd(2, '0'));
  const cents = whole * 100n + fraction;
  return cents > BigInt(Number.MAX_SAFE_INTEGER) ? null : Number(cents);
}

/** 12345 → "123.45": cents as a person types dollars (an edit form's starting value). */
export function dollarsInput(cents) {
  const value = BigInt(cents);
  return `${value / 100n}.${(value % 100n).toString().padStart(2, '0')}`;
}

/** A Date as a datetime-local input's value, in the browser's own time zone: "2026-12-08T14:30". */
export function localInput(at) {
  const p = (n) => String(n).padStart(2, '0');
  return `${at.getFullYear()}-${p(at.getMonth() + 1)}-${p(at.getDate())}T${p(at.getHours())}:${p(at.getMinutes())}`;
}

/** A datetime-local input's value (the browser's time zone) as an RFC 3339 instant, or null. */
export function instantFromLocal(value) {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value ?? '')) return null;
  const at = new Date(value); // a date-time without an offset is read as local time
  return Number.isNaN(at.getTime()) ? null : at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * An id's last 8 characters, "…3f9c0a12", the one short form of an id: a UUIDv7 begins with its
 * time, so ids made moments apart (an order, its executor, the events about it) share their
 * first characters, and only the tail tells them apart.
 */
export function idTail(id) {
  return id ? `…${id.slice(-8)}` : '';
}
