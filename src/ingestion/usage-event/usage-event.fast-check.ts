import isLength from 'validator/lib/isLength';
import { isKnownGpuType } from '../../catalog/gpu-types';
import { MAX_RESOURCE_AMOUNT } from './usage-event.dto';
import { WORKSPACE_ID_PATTERN } from '../../common/ids';
import { parseRfc3339Ms } from '../../common/rfc3339';

/**
 * The hot-path twin of UsageEventDto: the same field rules, written as plain checks
 * (≈ 20× faster than plainToInstance + validateSync). It only names the failing fields;
 * messages come from the declared schema. The differential test in
 * usage-event.fast-check.spec.ts proves it fails exactly the fields the schema fails.
 */

// class-validator's semantics, reproduced exactly: IsOptional skips undefined and null;
// Length counts as validator.js does (a surrogate pair is one character); every string must
// be well-formed Unicode (IsWellFormedUnicode).
const absent = (v: unknown) => v === undefined || v === null;
// validator.js counts a surrogate pair as one character, so a string of at most `max` UTF-16
// units has at most `max` characters, and (for min ≤ 1) one of at least `min` units has at
// least `min`: only longer strings need the count (hot path: seven strings per event).
const strLen = (v: unknown, min: number, max: number) =>
  typeof v === 'string' &&
  v.isWellFormed() &&
  (min <= 1 && v.length >= min && v.length <= max ? true : isLength(v, { min, max }));
const intIn = (v: unknown, min: number, max: number) =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;

export interface FastCheckResult {
  failedFields: string[];
  startedAtMs: number | null;
  endedAtMs: number | null;
  timeMs: number | null;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- untrusted JSON, every access is checked
export function fastCheckUsageEvent(e: any): FastCheckResult {
  const failed: string[] = [];
  if (e === null || typeof e !== 'object' || Array.isArray(e)) {
    return { failedFields: ['(event)'], startedAtMs: null, endedAtMs: null, timeMs: null };
  }
  if (e.specversion !== '1.0') failed.push('specversion');
  if (!strLen(e.id, 1, 128)) failed.push('id');
  if (!strLen(e.source, 1, 256)) failed.push('source');
  if (e.type !== 'gpu.usage.v1') failed.push('type');
  if (typeof e.subject !== 'string' || !WORKSPACE_ID_PATTERN.test(e.subject)) failed.push('subject');
  const timeMs = parseRfc3339Ms(e.time, false);
  if (timeMs === null) failed.push('time');
  if (
    !absent(e.datacontenttype) &&
    !(typeof e.datacontenttype === 'string' && e.datacontenttype.isWellFormed())
  )
    failed.push('datacontenttype');
  const d = e.data;
  let startedAtMs: number | null = null;
  let endedAtMs: number | null = null;
  if (d === undefined || d === null || typeof d !== 'object' || Array.isArray(d)) {
    failed.push('data');
  } else {
    if (!strLen(d.container_id, 1, 128)) failed.push('data.container_id');
    if (!strLen(d.app_id, 1, 128)) failed.push('data.app_id');
    if (!absent(d.function_id) && !strLen(d.function_id, 0, 128)) failed.push('data.function_id');
    if (!isKnownGpuType(d.gpu_type)) failed.push('data.gpu_type');
    if (!intIn(d.gpu_count, 1, 64)) failed.push('data.gpu_count');
    startedAtMs = parseRfc3339Ms(d.started_at, true);
    if (startedAtMs === null) failed.push('data.started_at');
    endedAtMs = parseRfc3339Ms(d.ended_at, true);
    if (endedAtMs === null) failed.push('data.ended_at');
    if (!absent(d.cpu_millicores) && !intIn(d.cpu_millicores, 0, MAX_RESOURCE_AMOUNT))
      failed.push('data.cpu_millicores');
    if (!absent(d.memory_mib) && !intIn(d.memory_mib, 0, MAX_RESOURCE_AMOUNT)) failed.push('data.memory_mib');
    if (!absent(d.region) && !strLen(d.region, 0, 128)) failed.push('data.region');
    if (!absent(d.provider) && !strLen(d.provider, 0, 128)) failed.push('data.provider');
  }
  return { failedFields: failed, startedAtMs, endedAtMs, timeMs };
}
