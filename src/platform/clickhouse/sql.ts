/**
 * The one door for values into ClickHouse SQL text. ClickHouse 18.16 has no server-side
 * query parameters, so every user value is rendered here as a literal: strings escaped,
 * numbers checked to be integers, identifiers checked against a strict pattern.
 * Repositories build SQL only with these helpers (see ./README.md).
 */

/** Only this file can make a fragment: the token is not exported. */
const SAFE: unique symbol = Symbol('sql.safe');

/**
 * A fragment of SQL that is already safe to splice, built by these helpers only: the
 * constructor takes a token that only this file holds, so no caller can wrap text by hand.
 */
export class Sql {
  constructor(
    token: typeof SAFE,
    readonly text: string,
  ) {
    if (token !== SAFE) throw new TypeError('Sql fragments are built by the helpers in sql.ts only');
  }
  toString(): string {
    return this.text;
  }
}

/** Backslash and control characters, escaped alike in string literals and TabSeparated fields. */
const COMMON_ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\0': '\\0',
};
const LITERAL_ESCAPES: Readonly<Record<string, string>> = { ...COMMON_ESCAPES, "'": "\\'" };

const COMMON_SPECIAL = /[\\\n\r\t\0]/;
const COMMON_SPECIAL_ALL = /[\\\n\r\t\0]/g;
const LITERAL_SPECIAL = /[\\\n\r\t\0']/;
const LITERAL_SPECIAL_ALL = /[\\\n\r\t\0']/g;

/**
 * Escapes the characters of `escapes`. Most values have none, and are returned as they are
 * after one regex test: this runs for every field of every row the consumer inserts.
 */
function escapeWith(value: string, escapes: Readonly<Record<string, string>>): string {
  const literal = escapes === LITERAL_ESCAPES;
  if (!(literal ? LITERAL_SPECIAL : COMMON_SPECIAL).test(value)) return value;
  return value.replace(literal ? LITERAL_SPECIAL_ALL : COMMON_SPECIAL_ALL, (ch) => escapes[ch]);
}

/**
 * A ClickHouse string literal. Backslash and single quote are escaped; control characters
 * are written as escapes so that no byte can end the literal or the statement.
 */
export function str(value: string): Sql {
  if (typeof value !== 'string') throw new TypeError('sql.str expects a string');
  return new Sql(SAFE, `'${escapeWith(value, LITERAL_ESCAPES)}'`);
}

/** An unsigned or signed integer literal; rejects anything that is not a safe integer or bigint. */
export function int(value: number | bigint): Sql {
  if (typeof value === 'bigint') return new Sql(SAFE, value.toString());
  if (!Number.isSafeInteger(value))
    throw new TypeError(`sql.int expects a safe integer, got ${String(value)}`);
  return new Sql(SAFE, String(value));
}

/** A DateTime from epoch milliseconds (whole seconds; the ms part lives in its own column). */
export function dateTimeFromMs(epochMs: number): Sql {
  return new Sql(SAFE, `toDateTime(${int(Math.floor(epochMs / 1000)).text})`);
}

/** An identifier (table or database name) checked against a strict pattern, backquoted. */
export function ident(name: string): Sql {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name)) throw new TypeError(`not a safe identifier: ${name}`);
  return new Sql(SAFE, '`' + name + '`');
}

/** `(a, b, c)` from already-safe parts. */
export function tuple(parts: Sql[]): Sql {
  return new Sql(SAFE, `(${parts.map((p) => p.text).join(', ')})`);
}

/** A comma-separated list of safe parts. */
export function list(parts: Sql[]): Sql {
  return new Sql(SAFE, parts.map((p) => p.text).join(', '));
}

/** `(a) AND (b) AND …` from already-safe conditions; `1` (true) when there are none. */
export function and(conditions: Sql[]): Sql {
  return new Sql(SAFE, conditions.length ? conditions.map((c) => `(${c.text})`).join(' AND ') : '1');
}

/**
 * Tagged template: every interpolation must be an Sql fragment built by the helpers above.
 * A raw string or number in a template is a programming error and throws.
 */
export function sql(strings: TemplateStringsArray, ...values: Sql[]): Sql {
  let text = strings[0];
  values.forEach((v, i) => {
    if (!(v instanceof Sql)) throw new TypeError('sql`` takes only Sql fragments; use str(), int(), ident()');
    text += v.text + strings[i + 1];
  });
  return new Sql(SAFE, text);
}

/**
 * A value for a TabSeparated field (external tables): backslash, tab, newline, carriage
 * return and NUL escaped, as ClickHouse's TSV reader expects. Data, never SQL.
 */
export function tsvEscape(value: string): string {
  return escapeWith(value, COMMON_ESCAPES);
}

/** An integer as a TabSeparated field; anything but a safe integer is refused (quantities never are floats). */
export function tsvInt(value: number): string {
  if (!Number.isSafeInteger(value)) throw new TypeError(`not a safe integer: ${value}`);
  return String(value);
}

/** Rows as TabSeparated text, one line each; numbers must be integers (quantities never are floats). */
export function toTabSeparated(rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  let out = '';
  for (const row of rows) {
    for (let i = 0; i < row.length; i++) {
      const v = row[i];
      if (i > 0) out += '\t';
      if (typeof v === 'number') {
        if (!Number.isSafeInteger(v)) throw new TypeError(`not a safe integer: ${v}`);
        out += String(v);
      } else {
        out += tsvEscape(v);
      }
    }
    out += '\n';
  }
  return out;
}
