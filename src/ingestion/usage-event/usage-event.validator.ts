import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import { UsageEventDto } from './usage-event.dto';
import { fastCheckUsageEvent } from './usage-event.fast-check';
import { FieldError, UsageEventVerdict } from './usage-event';
import { findJsonProblem } from '../../platform/json/untrusted-json';
import { DAY_MS, HOUR_MS } from '../../common/time';

export const MAX_INTERVAL_MS = HOUR_MS;

export interface TimeWindow {
  /** How far after ingestion `ended_at` may lie (agent clock skew). */
  maxFutureMs: number;
  /** How long before ingestion `ended_at` may lie. */
  maxAgeMs: number;
}

function flatten(errors: ValidationError[], prefix = ''): FieldError[] {
  return errors.flatMap((e) => {
    const field = prefix + e.property;
    const own = Object.values(e.constraints ?? {}).map((message) => ({
      field,
      message: message.startsWith(e.property) ? prefix + message : `${field}: ${message}`,
    }));
    // When the value itself is wrong (e.g. `data` is an array), its children say nothing more.
    return own.length > 0 ? own : flatten(e.children ?? [], `${field}.`);
  });
}

/**
 * Field-rule messages from the declared schema (class-validator). Slow; used only on rejection.
 * Callers pass values `findJsonProblem` found nothing wrong with (bounded depth, no prototype
 * keys), so the recursive libraries are safe on them.
 */
export function schemaErrors(raw: unknown): FieldError[] {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return [{ field: '(event)', message: 'an event must be a JSON object' }];
  }
  const dto = plainToInstance(UsageEventDto, raw);
  return flatten(validateSync(dto, { forbidUnknownValues: false }));
}

/** schemaErrors that never throws: a library failure still names the fields the fast path found. */
function safeSchemaErrors(raw: unknown, failedFields: string[]): FieldError[] {
  let errors: FieldError[] = [];
  try {
    errors = schemaErrors(raw);
  } catch {
    // fall through: named from the fast path below
  }
  // The differential test keeps the two in step; should they ever disagree, refuse anyway,
  // naming the fields the fast path found.
  return errors.length > 0
    ? errors
    : failedFields.map((field) => ({ field, message: `${field} is invalid` }));
}

/**
 * Decides whether one usage event is billable: every rule of contract §1. Field rules run
 * on the fast path; when one fails, the messages come from the declared schema. The rules
 * that relate fields to each other and to the moment of ingestion follow.
 *
 * `ingestedAtMs` is when gpumeter first accepted the event (HTTP arrival, or the Kafka
 * record's timestamp in the consumer), so a replay judges an event as it was judged live.
 *
 * Before any field rule, the whole event (extension attributes included) must be JSON that is
 * safe to handle: well-formed Unicode in every key and string, no prototype-chain keys, bounded
 * depth (see platform/json/untrusted-json.ts). Never throws, whatever `raw` is.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- untrusted JSON, checked before use
export function validateUsageEvent(raw: any, ingestedAtMs: number, window: TimeWindow): UsageEventVerdict {
  const problem = findJsonProblem(raw, '(event)');
  if (problem) return { ok: false, errors: [problem] };
  const fast = fastCheckUsageEvent(raw);
  if (fast.failedFields.length > 0) return { ok: false, errors: safeSchemaErrors(raw, fast.failedFields) };
  const started = fast.startedAtMs as number;
  const ended = fast.endedAtMs as number;
  const errors: FieldError[] = [];
  if (ended <= started) {
    errors.push({ field: 'data.ended_at', message: 'data.ended_at must be after data.started_at' });
  } else if (ended - started > MAX_INTERVAL_MS) {
    errors.push({
      field: 'data.ended_at',
      message: 'data.ended_at must be at most 3600 s after data.started_at',
    });
  }
  if (ended > ingestedAtMs + window.maxFutureMs) {
    errors.push({
      field: 'data.ended_at',
      message: `data.ended_at must not be more than ${window.maxFutureMs / 1000} s after the moment of ingestion`,
    });
  }
  if (ended < ingestedAtMs - window.maxAgeMs) {
    errors.push({
      field: 'data.ended_at',
      message: `data.ended_at must not be more than ${window.maxAgeMs / DAY_MS} days before the moment of ingestion`,
    });
  }
  if (fast.timeMs !== ended) {
    errors.push({ field: 'time', message: 'time must equal data.ended_at' });
  }
  if (errors.length > 0) return { ok: false, errors };
  const d = raw.data;
  return {
    ok: true,
    record: {
      workspace_id: raw.subject,
      source: raw.source,
      id: raw.id,
      container_id: d.container_id,
      app_id: d.app_id,
      function_id: d.function_id ?? '',
      region: d.region ?? '',
      provider: d.provider ?? '',
      gpu_type: d.gpu_type,
      gpu_count: d.gpu_count,
      cpu_millicores: d.cpu_millicores ?? 0,
      memory_mib: d.memory_mib ?? 0,
      started_at_ms: started,
      ended_at_ms: ended,
    },
  };
}
