import fc from 'fast-check';
import { parseRfc3339Ms } from './rfc3339';

/**
 * The oracle is the text's making, not a parser: each date-time is built from its parts, each
 * part written well or badly on purpose, so what it must parse to (or that it must not parse)
 * is known from how it was built — RFC 3339 §5.6's grammar, the calendar as `Date.UTC` counts
 * it (an independent calendar: a day exists when Date.UTC does not roll it into the next
 * month), and the one rule of our own, no year before 1970.
 */
interface Part {
  text: string;
  /** Written as the grammar says (else the whole text is not a date-time). */
  wellFormed: boolean;
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');

/** A number of `width` digits: written well, or a digit too long, or with a non-digit in it. */
const numberPart = (value: number, width: number) =>
  fc.oneof(
    { weight: 12, arbitrary: fc.constant<Part>({ text: pad(value, width), wellFormed: true }) },
    {
      weight: 1,
      arbitrary: fc
        // (Never a digit short: next to a missing separator, the digits around it could make
        // a well-formed text again — "1" + "" + ".1"'s fraction reads as a second "01".)
        .constantFrom(
          `0${pad(value, width)}`,
          `${pad(value, width).slice(0, -1)}x`,
          ` ${pad(value, width).slice(1)}`,
          `${pad(value, width).slice(0, -1)}٣`, // an Arabic-Indic digit: not an ASCII DIGIT
        )
        .map((text): Part => ({ text, wellFormed: false })),
    },
  );

/** A separator: one of the grammar's, or something else. */
const separator = (...good: string[]) =>
  fc.oneof(
    { weight: 12, arbitrary: fc.constantFrom(...good).map((text): Part => ({ text, wellFormed: true })) },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom('', ' ', '/', '_', '.', 'x', `${good[0]}${good[0]}`)
        .map((text): Part => ({ text, wellFormed: good.includes(text) })),
    },
  );

const dateTime = fc
  .record({
    year: fc.integer({ min: 1960, max: 2500 }),
    month: fc.integer({ min: 0, max: 13 }),
    day: fc.integer({ min: 0, max: 32 }),
    hour: fc.integer({ min: 0, max: 24 }),
    minute: fc.integer({ min: 0, max: 60 }),
    second: fc.integer({ min: 0, max: 60 }),
    // time-secfrac: "." 1*DIGIT (we read up to 9); absent is allowed
    fraction: fc.option(fc.stringMatching(/^\d{1,9}$/), { nil: undefined }),
    zone: fc.oneof(
      fc.constantFrom('Z', 'z'),
      fc.record({
        sign: fc.constantFrom(1, -1),
        hours: fc.integer({ min: 0, max: 25 }),
        minutes: fc.integer({ min: 0, max: 61 }),
      }),
    ),
  })
  .chain((v) =>
    fc
      .tuple(
        numberPart(v.year, 4),
        separator('-'),
        numberPart(v.month, 2),
        separator('-'),
        numberPart(v.day, 2),
        separator('T', 't'),
        numberPart(v.hour, 2),
        separator(':'),
        numberPart(v.minute, 2),
        separator(':'),
        numberPart(v.second, 2),
        v.fraction === undefined ? fc.constant<Part>({ text: '', wellFormed: true }) : separator('.'),
        typeof v.zone === 'string'
          ? fc.constant<Part>({ text: v.zone, wellFormed: true })
          : fc
              .tuple(
                numberPart(v.zone.hours, 2),
                separator(':'),
                numberPart(v.zone.minutes, 2),
                fc.constant((v.zone as { sign: number }).sign),
              )
              .map(([h, s, m, sign]): Part => ({
                text: `${sign < 0 ? '-' : '+'}${h.text}${s.text}${m.text}`,
                wellFormed: h.wellFormed && s.wellFormed && m.wellFormed,
              })),
      )
      .map((parts) => {
        const [y, , mo, , d, , h, , mi, , s, dot, zone] = parts;
        const text = [y, parts[1], mo, parts[3], d, parts[5], h, parts[7], mi, parts[9], s]
          .map((p) => p.text)
          .join('');
        const fraction = v.fraction === undefined ? '' : `${dot.text}${v.fraction}`;
        return {
          v,
          text: `${text}${fraction}${zone.text}`,
          wellFormed: parts.every((p) => p.wellFormed),
        };
      }),
  );

interface DateParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  fraction?: string;
  zone: string | { sign: number; hours: number; minutes: number };
}

/** What the built text means, from its parts: epoch ms, or null when it is not a valid instant. */
function meaning(
  built: { v: DateParts; text: string; wellFormed: boolean },
  exactMillis: boolean,
): number | null {
  const v = built.v;
  if (!built.wellFormed || built.text.length > 40) return null;
  if (exactMillis && v.fraction?.length !== 3) return null;
  if (v.year < 1970 || v.month < 1 || v.month > 12 || v.day < 1) return null;
  // The calendar's own answer: a day that does not exist rolls into the next month.
  if (new Date(Date.UTC(v.year, v.month - 1, v.day)).getUTCMonth() !== v.month - 1) return null;
  if (v.hour > 23 || v.minute > 59 || v.second > 59) return null;
  let offsetMinutes = 0;
  if (typeof v.zone !== 'string') {
    if (v.zone.hours > 23 || v.zone.minutes > 59) return null;
    offsetMinutes = v.zone.sign * (v.zone.hours * 60 + v.zone.minutes);
  }
  const ms = v.fraction === undefined ? 0 : Number(v.fraction.slice(0, 3).padEnd(3, '0'));
  return Date.UTC(v.year, v.month - 1, v.day, v.hour, v.minute, v.second, ms) - offsetMinutes * 60_000;
}

describe('parseRfc3339Ms: what a date-time built from its parts means', () => {
  it('agrees with how every text was built: well or badly, valid days or not, any zone, any fraction', () => {
    fc.assert(
      fc.property(dateTime, (built) => {
        expect([built.text, parseRfc3339Ms(built.text)]).toEqual([built.text, meaning(built, false)]);
        expect([built.text, parseRfc3339Ms(built.text, true)]).toEqual([built.text, meaning(built, true)]);
      }),
      { numRuns: Number(process.env.RFC3339_RUNS ?? 20_000) },
    );
  });

  it('knows the calendar and the edges by name', () => {
    expect(parseRfc3339Ms('2027-02-29T00:00:00.000Z')).toBeNull();
    expect(parseRfc3339Ms('2028-02-29T00:00:00.000Z')).toBe(Date.UTC(2028, 1, 29));
    expect(parseRfc3339Ms('2100-02-29T00:00:00.000Z')).toBeNull();
    expect(parseRfc3339Ms('2000-02-29T00:00:00.000Z')).toBe(Date.UTC(2000, 1, 29));
    expect(parseRfc3339Ms('2026-04-31T00:00:00.000Z')).toBeNull();
    expect(parseRfc3339Ms('2026-12-31T24:00:00.000Z')).toBeNull();
    expect(parseRfc3339Ms('2026-12-31T23:59:60Z')).toBeNull(); // leap seconds are not billed
    expect(parseRfc3339Ms('2026-12-31t23:59:59.123456789z')).toBe(Date.UTC(2026, 11, 31, 23, 59, 59, 123));
    expect(parseRfc3339Ms('2026-01-01T05:30:00+05:30')).toBe(Date.UTC(2026, 0, 1));
    expect(parseRfc3339Ms('2026-01-01T00:00:00-00:01')).toBe(Date.UTC(2026, 0, 1, 0, 1));
    expect(parseRfc3339Ms('2026-01-01T00:00:00.5Z', true)).toBeNull();
    expect(parseRfc3339Ms('2026-01-01 00:00:00Z')).toBeNull();
    expect(parseRfc3339Ms('2026-01-01T00:00:00')).toBeNull(); // no zone
    expect(parseRfc3339Ms('1969-12-31T23:59:59.999Z')).toBeNull();
    expect(parseRfc3339Ms(Date.UTC(2026, 0, 1))).toBeNull();
  });
});
