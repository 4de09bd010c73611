/**
 * JSON from outside — HTTP bodies, Kafka records — before any code walks it.
 *
 * Three kinds of input break code that handles parsed JSON, and none of them is refused by
 * `JSON.parse` itself:
 * - deep nesting: `JSON.parse` takes a million levels, but every recursive walker after it
 *   (class-transformer, class-validator, `JSON.stringify`) overflows the stack at ~10,000;
 * - lone surrogates (`"\ud800"`): valid JSON, not valid Unicode. ClickHouse stores them as
 *   U+FFFD or refuses the row, so a stored string no longer equals the one we hold (a dedupe
 *   key that never matches) or a projection fails on every attempt;
 * - keys that name the prototype chain (`__proto__`, `constructor`, `prototype`): harmless to
 *   `JSON.parse`, dangerous to any code that copies keys onto objects.
 * So the depth is checked on the raw bytes before parsing, and the parsed value is checked
 * for the other two, iteratively (never by recursion), before any validation runs.
 */

/** Deepest nesting of arrays and objects accepted anywhere (our own payloads need ≤ 6). */
export const MAX_JSON_DEPTH = 32;

/** Keys refused anywhere in untrusted JSON. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Whether JSON text nests arrays/objects deeper than `maxDepth`: one pass over the bytes,
 * brackets inside strings ignored. Works on any bytes (not only valid JSON) and never throws.
 */
export function exceedsJsonDepth(bytes: Uint8Array, maxDepth = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (inString) {
      if (b === BACKSLASH) i++;
      else if (b === QUOTE) inString = false;
    } else if (b === QUOTE) {
      inString = true;
    } else if (b === OPEN_BRACE || b === OPEN_BRACKET) {
      if (++depth > maxDepth) return true;
    } else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}

export type UntrustedJsonResult = { ok: true; value: unknown } | { ok: false; detail: string };

/** Parses untrusted JSON bytes: depth first, then `JSON.parse`. Never throws. */
export function parseUntrustedJson(bytes: Uint8Array | null, maxDepth = MAX_JSON_DEPTH): UntrustedJsonResult {
  if (!bytes || bytes.length === 0) return { ok: false, detail: 'empty message' };
  if (exceedsJsonDepth(bytes, maxDepth))
    return { ok: false, detail: `JSON nested deeper than ${maxDepth} levels` };
  try {
    return {
      ok: true,
      value: JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8')),
    };
  } catch (e) {
    return { ok: false, detail: e instanceof Error ? e.message : String(e) };
  }
}

/** A problem found in parsed JSON, with the path of the field (`name`, `data.app_id`, `thresholds[2]`). */
export interface JsonProblem {
  field: string;
  message: string;
}

function child(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  const shown = key.isWellFormed() ? key : JSON.stringify(key);
  return path === '' ? shown : `${path}.${shown}`;
}

/**
 * The first lone surrogate (in a key or a string value), forbidden key or nesting deeper
 * than `maxDepth` in a parsed value, or null when there is none. Iterative: safe on any depth.
 * `root` names the value itself in messages (e.g. `(body)`).
 */
export function findJsonProblem(
  value: unknown,
  root = '(body)',
  maxDepth = MAX_JSON_DEPTH,
): JsonProblem | null {
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value, path: '', depth: 0 }];
  while (stack.length > 0) {
    const { value: v, path, depth } = stack.pop()!;
    const field = path === '' ? root : path;
    if (typeof v === 'string') {
      if (!v.isWellFormed())
        return { field, message: `${field} must be well-formed Unicode (it holds a lone surrogate)` };
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (depth >= maxDepth) return { field, message: `${field} is nested deeper than ${maxDepth} levels` };
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--)
        stack.push({ value: v[i], path: child(path, i), depth: depth + 1 });
      continue;
    }
    const keys = Object.keys(v);
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i];
      const at = child(path, key);
      if (!key.isWellFormed())
        return {
          field: at,
          message: `field name ${at} must be well-formed Unicode (it holds a lone surrogate)`,
        };
      if (FORBIDDEN_KEYS.has(key)) return { field: at, message: `a field named ${key} is not accepted` };
      stack.push({ value: (v as Record<string, unknown>)[key], path: at, depth: depth + 1 });
    }
  }
  return null;
}
