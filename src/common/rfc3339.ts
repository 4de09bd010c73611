/**
 * Strict RFC 3339 date-time parsing to epoch milliseconds. `Date.parse` is too lenient
 * (it takes "2026-02-30" and many non-RFC forms), and a billing quantity must not depend
 * on how a runtime guesses.
 */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
function daysInMonth(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return month === 2 && leap ? 29 : DAYS[month - 1];
}

/** The two-digit number at `at`, or -1 when either character is not a digit. */
function two(value: string, at: number): number {
  const a = value.charCodeAt(at) - 48;
  const b = value.charCodeAt(at + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/**
 * The form every agent writes, `YYYY-MM-DDTHH:MM:SS.sssZ` (24 characters), read without a
 * regex or an allocation: three of these per usage event on the consumer's hot path. Null
 * when the value is not exactly that form (the general parser then decides).
 */
function parseCanonical(value: string): number | null {
  if (
    value.length !== 24 ||
    value.charCodeAt(4) !== 45 || // -
    value.charCodeAt(7) !== 45 ||
    value.charCodeAt(10) !== 84 || // T
    value.charCodeAt(13) !== 58 || // :
    value.charCodeAt(16) !== 58 ||
    value.charCodeAt(19) !== 46 || // .
    value.charCodeAt(23) !== 90 // Z
  )
    return null;
  const century = two(value, 0);
  const yy = two(value, 2);
  const month = two(value, 5);
  const day = two(value, 8);
  const hour = two(value, 11);
  const minute = two(value, 14);
  const second = two(value, 17);
  const msHigh = two(value, 20);
  const msLow = value.charCodeAt(22) - 48;
  if ((century | yy | month | day | hour | minute | second | msHigh) < 0 || msLow < 0 || msLow > 9)
    return null;
  const year = century * 100 + yy;
  if (year < 1970 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  return Date.UTC(year, month - 1, day, hour, minute, second, msHigh * 10 + msLow);
}

/**
 * Epoch ms of an RFC 3339 date-time, or null when it is not one. Fractions beyond
 * milliseconds are truncated. With `exactMillis`, exactly three fraction digits are
 * required (the contract's "RFC 3339 with milliseconds" for interval bounds).
 */
export function parseRfc3339Ms(value: unknown, exactMillis = false): number | null {
  if (typeof value !== 'string' || value.length > 40) return null;
  const canonical = parseCanonical(value);
  if (canonical !== null) return canonical;
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
