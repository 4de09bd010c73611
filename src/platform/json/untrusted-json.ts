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

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** What a byte means to the depth scan outside strings: most bytes mean nothing (0). */
const QUOTE_CLASS = 1;
const OPEN_CLASS = 2;
const CLOSE_CLASS = 3;
const BYTE_CLASS = new Uint8Array(256);
BYTE_CLASS[QUOTE] = QUOTE_CLASS;
BYTE_CLASS[0x7b] = OPEN_CLASS; // {
BYTE_CLASS[0x5b] = OPEN_CLASS; // [
BYTE_CLASS[0x7d] = CLOSE_CLASS; // }
BYTE_CLASS[0x5d] = CLOSE_CLASS; // ]

/**
 * Whether JSON text nests arrays/objects deeper than `maxDepth`: one pass over the bytes,
 * brackets inside strings ignored. Works on any bytes (not only valid JSON) and never throws.
 * Runs on every Kafka record and HTTP body, so the common byte costs one table read.
 */
export function exceedsJsonDepth(bytes: Uint8Array, maxDepth = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  const n = bytes.length;
  for (let i = 0; i < n; i++) {
    const c = BYTE_CLASS[bytes[i]];
    if (c === 0) continue;
    if (c === QUOTE_CLASS) {
      // A string: on to its closing quote, stepping over escaped characters.
      for (i++; i < n; i++) {
        const b = bytes[i];
        if (b === QUOTE) break;
        if (b === BACKSLASH) i++;
      }
    } else if (c === OPEN_CLASS) {
      if (++depth > maxDepth) return true;
    } else {
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
 * Whether a parsed value holds any problem `findJsonProblem` names. Builds no paths and
 * allocates nothing but key lists: this runs for every event of every record (the paths
 * were ≈ 20 strings an event, all garbage on the happy path). Recursive, but never deeper
 * than `maxDepth` + 1 frames: a value nested deeper is a problem found at that depth.
 */
function hasJsonProblem(v: unknown, depth: number, maxDepth: number): boolean {
  if (typeof v === 'string') return !v.isWellFormed();
  if (v === null || typeof v !== 'object') return false;
  if (depth >= maxDepth) return true;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (hasJsonProblem(v[i], depth + 1, maxDepth)) return true;
    return false;
  }
  const keys = Object.keys(v);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    if (!key.isWellFormed() || FORBIDDEN_KEYS.has(key)) return true;
    if (hasJsonProblem((v as Record<string, unknown>)[key], depth + 1, maxDepth)) return true;
  }
  return false;
}

/**
 * The first lone surrogate (in a key or a string value), forbidden key or nesting deeper
 * than `maxDepth` in a parsed value, or null when there is none. Safe on any depth.
 * `root` names the value itself in messages (e.g. `(body)`).
 *
 * Two passes: a cheap one that only says whether there is a problem, and, only when there
 * is, the walk that names the first one (iterative, building the field paths).
 */
export function findJsonProblem(
  value: unknown,
  root = '(body)',
  maxDepth = MAX_JSON_DEPTH,
): JsonProblem | null {
  if (!hasJsonProblem(value, 0, maxDepth)) return null;
  return nameJsonProblem(value, root, maxDepth);
}

/** The first problem, named by its path (see findJsonProblem). Iterative: safe on any depth. */
function nameJsonProblem(value: unknown, root: string, maxDepth: number): JsonProblem | null {
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

const isJsonWhitespace = (b: number) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

/**
 * The text of each element of a JSON array (or of a lone JSON object: one text), cut from the
 * bytes it was parsed from, without surrounding whitespace — so an API that parsed a body can
 * pass each element on as the very text it judged, instead of writing it out again with
 * `JSON.stringify` (measured: most of the API's own cost per event after parsing). The bytes
 * must be JSON that `JSON.parse` accepted; anything else gives null (never throws).
 * `JSON.parse` of each text equals the element parsed from the whole (property-tested).
 */
export function topLevelJsonTexts(bytes: Uint8Array): string[] | null {
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const n = buffer.length;
  let i = 0;
  while (i < n && isJsonWhitespace(buffer[i])) i++;
  let last = n - 1;
  while (last > i && isJsonWhitespace(buffer[last])) last--;
  if (i >= n) return null;
  if (buffer[i] === 0x7b) return buffer[last] === 0x7d ? [buffer.toString('utf8', i, last + 1)] : null; // {…}
  if (buffer[i] !== 0x5b || buffer[last] !== 0x5d) return null; // […]
  const texts: string[] = [];
  let depth = 0;
  let start = -1; // where the current element began (−1: between elements)
  let end = -1; // one past its last non-whitespace byte
  for (i++; i < last; i++) {
    const b = buffer[i];
    const c = BYTE_CLASS[b];
    if (c === QUOTE_CLASS) {
      if (start < 0) start = i;
      for (i++; i < last; i++) {
        const q = buffer[i];
        if (q === QUOTE) break;
        if (q === BACKSLASH) i++;
      }
    } else if (c === OPEN_CLASS) {
      if (start < 0) start = i;
      depth++;
    } else if (c === CLOSE_CLASS) {
      depth--;
    } else if (b === 0x2c && depth === 0) {
      if (start >= 0) texts.push(buffer.toString('utf8', start, end));
      start = -1;
      continue;
    } else if (isJsonWhitespace(b)) {
      continue;
    } else if (start < 0) {
      start = i;
    }
    end = i + 1;
  }
  if (start >= 0) texts.push(buffer.toString('utf8', start, end));
  return depth === 0 ? texts : null;
}
