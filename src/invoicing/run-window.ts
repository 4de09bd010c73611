import { HOUR_MS } from '../common/time';
import { BillingPeriod } from './billing-period';
import { InvoiceRunMode, InvoiceRunState } from './invoice-events';

/**
 * When invoice runs may do what (pure; the grace is INVOICE_GRACE_HOURS). A month is
 * finalized once its grace has passed; threshold invoices of it are drawn up from its start
 * until THRESHOLD_STOP_BEFORE_FINALIZING_MS before that, so that a month-end run never
 * computes the rest of a month while a threshold invoice of it is published.
 */
export const THRESHOLD_STOP_BEFORE_FINALIZING_MS = 10 * 60_000;
/** A running run publishes its state this often; one silent for 4 beats has died. */
export const HEARTBEAT_MS = 15_000;
const ABANDONED_AFTER_MS = 4 * HEARTBEAT_MS;

export function finalizableAtMs(period: BillingPeriod, graceHours: number): number {
  return period.endMs + graceHours * HOUR_MS;
}

/** Whether a period's invoices may be finalized at `nowMs` (its end plus the grace has passed). */
export function isFinalizable(period: BillingPeriod, graceHours: number, nowMs: number): boolean {
  return nowMs >= finalizableAtMs(period, graceHours);
}

/** Whether threshold invoices of a period may be drawn up at `nowMs`. */
export function thresholdBillable(period: BillingPeriod, graceHours: number, nowMs: number): boolean {
  return (
    nowMs >= period.startMs &&
    nowMs < finalizableAtMs(period, graceHours) - THRESHOLD_STOP_BEFORE_FINALIZING_MS
  );
}

/**
 * Why a run of `mode` may not start for `period` at `nowMs` (null: it may): a month-end run
 * takes a month that has ended (the open month is previewed, GET /v1/invoices/upcoming), a
 * threshold run a month that may not be finalized soon.
 */
export function refuseRun(
  period: BillingPeriod,
  mode: InvoiceRunMode,
  graceHours: number,
  nowMs: number,
): string | null {
  if (mode === 'month_end' && !period.hasEnded(nowMs))
    return `period must be a month that has ended (${period.toString()} ends ${new Date(period.endMs).toISOString()})`;
  if (mode === 'threshold' && !thresholdBillable(period, graceHours, nowMs))
    return `threshold invoices of ${period.toString()} are drawn up from its start until ${THRESHOLD_STOP_BEFORE_FINALIZING_MS / 60_000} minutes before it may be finalized (${new Date(finalizableAtMs(period, graceHours)).toISOString()})`;
  return null;
}

/** A run as last published, read at `nowMs`: one whose process stopped beating is `abandoned`. */
export function runAsSeen(run: InvoiceRunState | undefined, nowMs: number): InvoiceRunState | undefined {
  if (run?.status === 'running' && nowMs - Date.parse(run.updated_at) > ABANDONED_AFTER_MS)
    return { ...run, status: 'abandoned' };
  return run;
}
