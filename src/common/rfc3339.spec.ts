import fc from 'fast-check';
import { parseRfc3339Ms } from './rfc3339';

/** The parser as it was before its fast path (regex only): the reference. */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;
function reference(value: unknown, exactMillis = false): number | null {
  if (typeof value !== 'string' || value.length > 40) return null;
  const m = RFC3339.exec(value);
  if (!m) return null;
  const [, ys, mos, ds, hs, mis, ss, frac, zone] = m;
  if (exactMillis && (frac === undefined || frac.length !== 4)) return null;
  const [year, month, day, hour, minute, second] = [ys, mos, ds, hs, mis, ss].map(Number);
  if (year < 1970) return null;
  if (month < 1 || month > 12 || day < 1 || day > new Date(Date.UTC(year, month, 0)).getUTCDate())
    return null;
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

const pad = (n: number, w: number) => String(n).padStart(w, '0');

describe('parseRfc3339Ms: the canonical fast path decides exactly as the regex parser', () => {
  it('agrees on canonical forms with any field values, valid or not (leap years, day 31 of short months, 24:00)', () => {
    fc.assert(
      fc.property(
        fc.tuple(
          fc.integer({ min: 1960, max: 2500 }),
          fc.integer({ min: 0, max: 13 }),
          fc.integer({ min: 0, max: 32 }),
          fc.integer({ min: 0, max: 24 }),
          fc.integer({ min: 0, max: 60 }),
          fc.integer({ min: 0, max: 60 }),
          fc.integer({ min: 0, max: 999 }),
          fc.constantFrom('Z', 'z', '+00:00', '-05:30'),
          fc.constantFrom('T', 't'),
        ),
        ([y, mo, d, h, mi, s, ms, zone, t]) => {
          const text = `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}${t}${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}.${pad(ms, 3)}${zone}`;
          expect([text, parseRfc3339Ms(text)]).toEqual([text, reference(text)]);
          expect([text, parseRfc3339Ms(text, true)]).toEqual([text, reference(text, true)]);
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('agrees on near-misses: any one character of a canonical date replaced', () => {
    const base = '2028-02-29T23:59:59.999Z';
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: base.length - 1 }),
        fc.string({ minLength: 1, maxLength: 1, unit: 'binary' }),
        (at, ch) => {
          const text = base.slice(0, at) + ch + base.slice(at + 1);
          expect([text, parseRfc3339Ms(text, true)]).toEqual([text, reference(text, true)]);
        },
      ),
      { numRuns: 3000 },
    );
    expect(parseRfc3339Ms('2027-02-29T00:00:00.000Z')).toBeNull();
    expect(parseRfc3339Ms('2028-02-29T00:00:00.000Z')).toBe(Date.UTC(2028, 1, 29));
    expect(parseRfc3339Ms('2100-02-29T00:00:00.000Z')).toBeNull();
    expect(parseRfc3339Ms('2000-02-29T00:00:00.000Z')).toBe(Date.UTC(2000, 1, 29));
  });
});
