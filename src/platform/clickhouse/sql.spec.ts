import fc from 'fast-check';
import { ident, int, Sql, sql, str, toTabSeparated, tsvEscape } from './sql';

describe('SQL literal helpers', () => {
  it('escapes quote and backslash so no value can leave its literal', () => {
    expect(str("'); DROP TABLE usage_events; --").text).toBe("'\\'); DROP TABLE usage_events; --'");
    expect(str('a\\b').text).toBe("'a\\\\b'");
    expect(str("\\'").text).toBe("'\\\\\\''");
    expect(str('line\nbreak\ttab\0nul').text).toBe("'line\\nbreak\\ttab\\0nul'");
  });
  it('takes only safe integers and identifiers', () => {
    expect(int(42).text).toBe('42');
    expect(int(12345678901234567890n).text).toBe('12345678901234567890');
    expect(() => int(1.5)).toThrow();
    expect(() => int(Number.NaN)).toThrow();
    expect(ident('gpumeter_test').text).toBe('`gpumeter_test`');
    expect(() => ident('x`; DROP')).toThrow();
  });
  it('the sql template refuses raw strings', () => {
    expect(sql`SELECT ${str('x')}`.text).toBe("SELECT 'x'");
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- deliberately wrong
    expect(() => sql`SELECT ${'x' as any}`).toThrow(/only Sql fragments/);
  });
  it('escapes TabSeparated fields', () => {
    expect(tsvEscape('a\tb\nc\\d\re\0')).toBe('a\\tb\\nc\\\\d\\re\\0');
    expect(tsvEscape("'quotes' stay")).toBe("'quotes' stay");
  });
});

describe('escaping, character by character (the fast path returns the same)', () => {
  const reference = (value: string, quote: boolean) => {
    const map: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\0': '\\0' };
    if (quote) map["'"] = "\\'";
    let out = '';
    for (const ch of value) out += map[ch] ?? ch;
    return out;
  };
  it('tsvEscape and str equal the per-character escape for any string', () => {
    const text = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.string({ unit: fc.constantFrom('a', '\\', '\n', '\r', '\t', '\0', "'", 'é', '😀') }),
    );
    fc.assert(
      fc.property(text, (v) => {
        expect(tsvEscape(v)).toBe(reference(v, false));
        expect(sql`${str(v)}`.text).toBe(`'${reference(v, true)}'`);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('toTabSeparated', () => {
  it('writes one escaped line per row and refuses non-integers', () => {
    expect(
      toTabSeparated([
        ['a\tb', 1],
        ['c', 2],
      ]),
    ).toBe('a\\tb\t1\nc\t2\n');
    expect(() => toTabSeparated([[1.5]])).toThrow();
  });
});

describe('Sql fragments', () => {
  it('cannot be made from text outside sql.ts', () => {
    const Forge = Sql as unknown as new (token: unknown, text: string) => Sql;
    expect(() => new Forge(Symbol('sql.safe'), 'DROP TABLE usage_events')).toThrow(/helpers in sql.ts/);
    expect(() => new Forge(undefined, '1')).toThrow(TypeError);
  });
});
