/**
 * Strict RFC 3339 date-time parsing to epoch milliseconds. `Date.parse` is too lenient
 * (it takes "2026-02-30" and many non-RFC forms), and a billing quantity must not depend
 * on how a runtime guesses.
 */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * Epoch ms of an RFC 3339 date-time, or null when it is not one. Fractions beyond
 * milliseconds are truncated. With `exactMillis`, exactly three fraction digits are
 * required (the contract's "RFC 3339 with milliseconds" for interval bounds).
 */
export function parseRfc3339Ms(value: unknown, exactMillis = false): number | null {
  if (typeof value !== 'string' || value.length > 40) return null;
  const m = RFC3339.exec(value);
  if (!m) return null;
  const [, ys, mos, ds, hs, mis, ss, frac, zone] = m;
  if (exactMillis && (frac === undefined || frac.length !== 4)) return null;
  const year = Number(ys);
  const month = Number(mos);
  const day = Number(ds);
  const hour = Number(hs);
  const minute = Number(mis);
  const second = Number(ss);
  if (year < 1970) return null; // Date.UTC maps years 0–99 to 1900–1999; no usage predates 1970 anyway
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  const ms = frac ? Number((frac.slice(1) + '00').slice(0, 3)) : 0;
  let offsetMinutes = 0;
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const oh = Number(zone.slice(1, 3));
    const om = Number(zone.slice(4, 6));
    if (oh > 23 || om > 59) return null;
    offsetMinutes = sign * (oh * 60 + om);
  }
  return Date.UTC(year, month - 1, day, hour, minute, second, ms) - offsetMinutes * 60_000;
}
