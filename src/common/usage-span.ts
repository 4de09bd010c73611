import { ApiError } from './api-error';
import { parseRfc3339Ms } from './rfc3339';
import { DAY_MS, HOUR_MS } from './time';

/** The longest span a usage read or export covers. */
export const MAX_RANGE_MS = 400 * DAY_MS;

/**
 * A span of usage [from, to): whole UTC hours (usage is kept per hour and a partial hour
 * cannot be answered exactly), `to` after `from`, at most 400 days. Used by GET /v1/usage and
 * the usage export, beside BillingPeriod for months. A bad value is a 400 naming the field.
 */
export class UsageSpan {
  private constructor(
    readonly fromMs: number,
    readonly toMs: number,
  ) {}

  /** `from`/`to` as given (RFC 3339), each with a fallback when absent. */
  static parse(
    from: string | undefined,
    to: string | undefined,
    fallback: { fromMs: number; toMs: number } = { fromMs: 0, toMs: 0 },
  ): UsageSpan {
    const fromMs = hourAligned('from', from, fallback.fromMs);
    const toMs = hourAligned('to', to, fallback.toMs);
    if (toMs <= fromMs) throw ApiError.invalid('to', 'to must be after from');
    if (toMs - fromMs > MAX_RANGE_MS)
      throw ApiError.invalid('to', 'the range from–to must be at most 400 days');
    return new UsageSpan(fromMs, toMs);
  }
}

function hourAligned(field: 'from' | 'to', value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const ms = parseRfc3339Ms(value);
  if (ms === null) throw ApiError.invalid(field, `${field} must be an RFC 3339 date-time`);
  if (ms % HOUR_MS !== 0)
    throw ApiError.invalid(field, `${field} must be a whole hour (UTC): usage is kept per hour`);
  return ms;
}
