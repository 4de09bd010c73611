import { DAY_MS } from '../common/time';
import { BillingPeriod } from '../invoicing/billing-period';

/** What raw event retention does with one closed month, before Kafka is asked. */
export type MonthDecision =
  | { period: BillingPeriod; action: 'retire' } // old enough: retire it (if Kafka agrees)
  | { period: BillingPeriod; action: 'retired' } // retired before: its partition is gone or goes now
  | { period: BillingPeriod; action: 'keep'; untilMs: number }; // too young

/**
 * Which closed months' raw events may go: those that ended `retentionDays` ago or more.
 * Only closed months (their invoices final) are ever retired; an open month keeps its raw
 * events however old it is. Oldest first.
 */
export function planRetention(input: {
  closed: readonly BillingPeriod[];
  retiredMonths: ReadonlySet<string>; // "YYYY-MM"
  retentionDays: number;
  nowMs: number;
}): MonthDecision[] {
  return [...input.closed]
    .sort((a, b) => a.compare(b))
    .map((period): MonthDecision => {
      if (input.retiredMonths.has(period.toString())) return { period, action: 'retired' };
      const untilMs = period.endMs + input.retentionDays * DAY_MS;
      return input.nowMs >= untilMs ? { period, action: 'retire' } : { period, action: 'keep', untilMs };
    });
}

/**
 * The record timestamp up to which the usage consumer group must have read before a month's
 * raw events may go: an event of the month is accepted only from a record at most
 * EVENT_MAX_AGE_DAYS younger than its end (the validator), plus a day for producers' clocks
 * that disagree (record timestamps are the producers').
 */
export function readBeforeRetiring(period: BillingPeriod, eventMaxAgeDays: number): number {
  return period.endMs + (eventMaxAgeDays + 1) * DAY_MS;
}
