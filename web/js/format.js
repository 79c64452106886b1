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

export function shortId(id) {
  return id ? id.slice(0, 8) : '';
}
