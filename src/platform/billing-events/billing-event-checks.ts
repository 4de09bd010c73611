import { WORKSPACE_ID_PATTERN } from '../../common/ids';
import { parseRfc3339Ms } from '../../common/rfc3339';
import { findJsonProblem } from '../json/untrusted-json';
import { BillingEventEnvelope } from './billing-event';

/**
 * What every billing event must be before any projection sees it, and small checks that
 * projections use to say what they need of a payload. A check returns the reason an event is
 * refused, or null. The same checks run before publishing (the API never publishes what its
 * projections would refuse) and on consuming (a record that fails them is dead-lettered).
 */
export type Refusal = string | null;

const TYPE_PATTERN = /^[a-z][a-z_]*(\.[a-z][a-z_]*)+$/;

/** The envelope: a CloudEvent from gpumeter with a workspace (or `gpumeter`) subject and an object payload. */
export function checkEnvelope(
  raw: unknown,
): { ok: true; event: BillingEventEnvelope } | { ok: false; detail: string } {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    return { ok: false, detail: 'a billing event must be a JSON object' };
  const problem = findJsonProblem(raw, '(event)');
  if (problem) return { ok: false, detail: problem.message };
  const e = raw as Record<string, unknown>;
  const refusal =
    (e.specversion !== '1.0' && 'specversion must be 1.0') ||
    (!isText(e.id, 256) && 'id must be a string of 1–256 characters') ||
    (e.source !== 'gpumeter' && 'source must be gpumeter') ||
    (!(typeof e.type === 'string' && e.type.length <= 128 && TYPE_PATTERN.test(e.type)) &&
      'type must be a dotted event type') ||
    (!(typeof e.subject === 'string' && WORKSPACE_ID_PATTERN.test(e.subject)) &&
      'subject must be a workspace id or gpumeter') ||
    (parseRfc3339Ms(e.time) === null && 'time must be an RFC 3339 date-time') ||
    (!isObject(e.data) && 'data must be an object');
  return refusal ? { ok: false, detail: refusal } : { ok: true, event: raw as BillingEventEnvelope };
}

export const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** A non-empty string of at most `max` characters (well-formedness is the envelope's check). */
export const isText = (v: unknown, max = 256): v is string =>
  typeof v === 'string' && v.length > 0 && v.length <= max;

/**
 * Runs field checks over a payload in order; the first failing one names the field.
 * `checks`: field → predicate over its value (absent fields are `undefined`).
 */
export function checkFields(
  data: unknown,
  checks: Record<string, (value: unknown) => boolean>,
  name = 'data',
): Refusal {
  if (!isObject(data)) return `${name} must be an object`;
  for (const [field, ok] of Object.entries(checks)) {
    if (!ok(data[field])) return `${name}.${field} is missing or invalid`;
  }
  return null;
}

export const optional =
  (check: (v: unknown) => boolean) =>
  (v: unknown): boolean =>
    v === undefined || check(v);
export const matching =
  (pattern: RegExp) =>
  (v: unknown): boolean =>
    typeof v === 'string' && pattern.test(v);
export const rfc3339 = (v: unknown): boolean => parseRfc3339Ms(v) !== null;
export const text =
  (max = 256) =>
  (v: unknown): boolean =>
    isText(v, max);
