import fc from 'fast-check';
import {
  exceedsJsonDepth,
  findJsonProblem,
  MAX_JSON_DEPTH,
  parseUntrustedJson,
  topLevelJsonTexts,
} from './untrusted-json';

const bytes = (s: string) => Buffer.from(s, 'utf8');
const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

/** Reference: the nesting depth of a parsed value, by plain recursion (fine for small values). */
function depthOf(v: unknown): number {
  if (v === null || typeof v !== 'object') return 0;
  const children = Array.isArray(v) ? v : Object.values(v);
  return 1 + Math.max(0, ...children.map(depthOf));
}

describe('exceedsJsonDepth', () => {
  it('counts nesting of arrays and objects, to the level', () => {
    expect(exceedsJsonDepth(bytes(nested(MAX_JSON_DEPTH)))).toBe(false);
    expect(exceedsJsonDepth(bytes(nested(MAX_JSON_DEPTH + 1)))).toBe(true);
    expect(exceedsJsonDepth(bytes('{"a":{"b":[1,{"c":2}]}}'), 4)).toBe(false);
    expect(exceedsJsonDepth(bytes('{"a":{"b":[1,{"c":2}]}}'), 3)).toBe(true);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    expect(exceedsJsonDepth(bytes(`{"a":"${'['.repeat(100)}"}`), 1)).toBe(false);
    expect(exceedsJsonDepth(bytes(`{"a":"\\"${'{'.repeat(100)}"}`), 1)).toBe(false);
    expect(exceedsJsonDepth(bytes(`{"a":"\\\\", "b": [[1]]}`), 2)).toBe(true);
  });

  it('equals the parsed value’s depth on arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue({ depthSize: 'large' }), fc.integer({ min: 0, max: 12 }), (value, max) => {
        const text = JSON.stringify(value);
        expect(exceedsJsonDepth(bytes(text), max)).toBe(depthOf(value) > max);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('parseUntrustedJson', () => {
  it('refuses 10,000 levels before parsing, and anything that is not JSON, without throwing', () => {
    expect(parseUntrustedJson(bytes(nested(10_000)))).toMatchObject({ ok: false });
    expect(parseUntrustedJson(null)).toMatchObject({ ok: false, detail: 'empty message' });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (raw) => {
        const r = parseUntrustedJson(raw);
        if (r.ok) expect(() => JSON.stringify(r.value)).not.toThrow();
      }),
      { numRuns: 3000 },
    );
  });
});

describe('findJsonProblem', () => {
  it('names the first lone surrogate, in a value or a key, at any position', () => {
    expect(findJsonProblem({ name: 'a\ud800b' })).toMatchObject({ field: 'name' });
    expect(findJsonProblem({ a: [1, { b: '\udc00' }] })).toMatchObject({ field: 'a[1].b' });
    expect(findJsonProblem({ ['k\ud800']: 1 })?.message).toMatch(/field name/);
    expect(findJsonProblem('\ud800', '(event)')).toMatchObject({ field: '(event)' });
    expect(findJsonProblem({ ok: '😀 \ud83d\ude00', n: 1, z: null, t: true })).toBeNull();
  });

  it('refuses the prototype-chain keys anywhere', () => {
    for (const key of ['__proto__', 'constructor', 'prototype'])
      expect(findJsonProblem(JSON.parse(`{"a":[{"${key}":{}}]}`))).toMatchObject({ field: `a[0].${key}` });
  });

  it('is iterative: a million levels are refused, not a stack overflow', () => {
    let v: unknown = 'x';
    for (let i = 0; i < 1_000_000; i++) v = [v];
    expect(findJsonProblem(v)?.message).toMatch(/nested deeper/);
  });

  it('finds nothing wrong in well-formed JSON of bounded depth, and never throws on any JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), (value) => {
        const problem = findJsonProblem(value);
        const text = JSON.stringify(value);
        const hasForbidden = /"(__proto__|constructor|prototype)":/.test(text);
        if (!hasForbidden && text.isWellFormed()) expect(problem).toBeNull();
      }),
      { numRuns: 3000 },
    );
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        expect(findJsonProblem({ s }) === null).toBe(s.isWellFormed());
      }),
      { numRuns: 3000 },
    );
  });
});

describe('findJsonProblem: the quick pass and the naming walk agree', () => {
  it('names a problem exactly when there is one, at any depth around the limit', () => {
    const unit = fc.constantFrom('a', '\ud800', '\udc00', '😀', '__proto__', 'constructor', 'prototype', 'x');
    const key = fc.string({ unit, maxLength: 3 });
    const { value } = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small', maxDepth: 40 },
        fc.string({ unit, maxLength: 3 }),
        fc.integer(),
        fc.constant(null),
        fc.array(tie('value'), { maxLength: 3 }),
        fc.dictionary(key, tie('value'), { maxKeys: 3 }),
      ),
    }));
    fc.assert(
      fc.property(value, fc.integer({ min: 1, max: 6 }), (v, maxDepth) => {
        const problem = findJsonProblem(v, '(body)', maxDepth);
        const depth = (x: unknown): number =>
          x !== null && typeof x === 'object'
            ? 1 + Math.max(0, ...Object.values(x as Record<string, unknown>).map(depth))
            : 0;
        const strings = (x: unknown): string[] =>
          typeof x === 'string'
            ? [x]
            : x !== null && typeof x === 'object'
              ? Object.entries(x).flatMap(([k, y]) => [...(Array.isArray(x) ? [] : [k]), ...strings(y)])
              : [];
        const keys = (x: unknown): string[] =>
          x !== null && typeof x === 'object'
            ? Object.entries(x).flatMap(([k, y]) => [...(Array.isArray(x) ? [] : [k]), ...keys(y)])
            : [];
        const expected =
          strings(v).some((s) => !s.isWellFormed()) ||
          keys(v).some((k) => ['__proto__', 'constructor', 'prototype'].includes(k)) ||
          depth(v) > maxDepth;
        expect(problem !== null).toBe(expected);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('topLevelJsonTexts', () => {
  it('cuts each element of an array, as written, and parses back to the same element', () => {
    fc.assert(
      fc.property(
        fc.array(fc.jsonValue({ maxDepth: 4 }), { maxLength: 6 }),
        fc.constantFrom(undefined, 2, '\t'),
        fc.constantFrom('', ' ', '\n\r\t '),
        (elements, indent, around) => {
          const body = bytes(`${around}${JSON.stringify(elements, null, indent)}${around}`);
          const texts = topLevelJsonTexts(body);
          expect(texts).not.toBeNull();
          expect(texts!.map((t) => JSON.parse(t))).toEqual(JSON.parse(body.toString('utf8')));
          for (const t of texts!) expect(t).toBe(t.trim());
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('takes a lone object whole, keeps escapes and multibyte text byte for byte, refuses other values', () => {
    expect(topLevelJsonTexts(bytes(' {"a":[1,{"b":"]"}]} '))).toEqual(['{"a":[1,{"b":"]"}]}']);
    const tricky = '[{"s":"a\\",\\\\"} , {"t":"é😀\\u00e9,]"},[]]';
    expect(topLevelJsonTexts(bytes(tricky))).toEqual(['{"s":"a\\",\\\\"}', '{"t":"é😀\\u00e9,]"}', '[]']);
    expect(topLevelJsonTexts(bytes('[]'))).toEqual([]);
    expect(topLevelJsonTexts(bytes('[ ]'))).toEqual([]);
    for (const other of ['', '  ', '1', '"x"', 'null', '[1', '{"a":1'])
      expect(topLevelJsonTexts(bytes(other))).toBeNull();
  });
});
