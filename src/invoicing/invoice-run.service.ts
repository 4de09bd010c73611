import { randomUUID } from 'node:crypto';
import { InvoicingConfig } from './invoicing.config';
import { Injectable, Logger } from '@nestjs/common';
import { ApiError } from '../common/api-error';
import { Clock } from '../platform/clock';
import { BillingPeriod } from './billing-period';
import { InvoicePushing } from './invoice-pushing.service';
import { InvoiceRunMode, InvoiceRunState, noRunCounts } from './invoice-events';
import { InvoiceRunLog } from './invoice-run-log.service';
import { MonthEndInvoicing } from './month-end-invoicing.service';
import { HEARTBEAT_MS, isFinalizable, refuseRun, thresholdBillable } from './run-window';
import { ThresholdInvoicing } from './threshold-invoicing.service';

export { THRESHOLD_STOP_BEFORE_FINALIZING_MS } from './run-window';

/**
 * Invoice runs: derive every invoice of a period from its usage, draft them, finalize them
 * once the period's grace has passed, close the period, and push each finalized invoice to
 * Stripe. Every step is an event with a deterministic id and every decision is re-derived
 * from the projections (after catching up with Kafka), so a run can be repeated or killed at
 * any point and run again: finalized invoices are never recomputed, pushed ones never pushed
 * again, and the pusher reconciles with Stripe before creating anything.
 *
 * This service sequences a run; the steps are MonthEndInvoicing, ThresholdInvoicing and
 * InvoicePushing, the record InvoiceRunLog, and when what may happen run-window.ts.
 */
@Injectable()
export class InvoiceRunService {
  private readonly logger = new Logger(InvoiceRunService.name);
  /** Runs executing in this process, by period and mode: one of each at a time. */
  private readonly active = new Map<string, { state: InvoiceRunState; done: Promise<InvoiceRunState> }>();
  /** The last run of each period started here: runs of one period (either mode) go one after the other. */
  private readonly lastOfPeriod = new Map<string, Promise<unknown>>();

  constructor(
    private readonly log: InvoiceRunLog,
    private readonly monthEnd: MonthEndInvoicing,
    private readonly thresholds: ThresholdInvoicing,
    private readonly pushing: InvoicePushing,
    private readonly config: InvoicingConfig,
    private readonly clock: Clock,
  ) {}

  /** Whether a period's invoices may be finalized at `nowMs` (run-window.ts). */
  isFinalizable(period: BillingPeriod, nowMs = this.clock.now()): boolean {
    return isFinalizable(period, this.config.INVOICE_GRACE_HOURS, nowMs);
  }

  /** Whether threshold invoices of a period may be drawn up at `nowMs` (run-window.ts). */
  thresholdBillable(period: BillingPeriod, nowMs = this.clock.now()): boolean {
    return thresholdBillable(period, this.config.INVOICE_GRACE_HOURS, nowMs);
  }

  /** Starts a run (or returns the one of that mode already running for the period in this process). */
  start(
    period: BillingPeriod,
    trigger: InvoiceRunState['trigger'],
    mode: InvoiceRunMode = 'month_end',
  ): { state: InvoiceRunState; done: Promise<InvoiceRunState> } {
    const now = this.clock.date();
    const refused = refuseRun(period, mode, this.config.INVOICE_GRACE_HOURS, now.getTime());
    if (refused) throw ApiError.invalid('period', refused);
    const key = `${period.toString()}:${mode}`;
    const running = this.active.get(key);
    if (running) return running;
    const state: InvoiceRunState = {
      id: `run_${randomUUID()}`,
      period: period.toString(),
      trigger,
      ...(mode === 'threshold' ? { mode } : {}),
      status: 'running',
      finalize: mode === 'threshold' || this.isFinalizable(period, now.getTime()),
      started_at: now.toISOString(),
      updated_at: now.toISOString(),
      finished_at: null,
      version: 0,
      counts: noRunCounts(),
      errors: [],
      pid: process.pid,
    };
    const before = this.lastOfPeriod.get(period.toString()) ?? Promise.resolve();
    const done = before
      .catch(() => undefined)
      .then(() => this.execute(period, state))
      .finally(() => this.active.delete(key));
    this.lastOfPeriod.set(period.toString(), done);
    const entry = { state, done };
    this.active.set(key, entry);
    return entry;
  }

  /** The run's state: live when it runs in this process, else as last published. */
  async get(id: string, nowMs = this.clock.now()): Promise<InvoiceRunState | undefined> {
    for (const { state } of this.active.values()) if (state.id === id) return { ...state };
    return this.log.get(id, nowMs);
  }

  private async execute(period: BillingPeriod, state: InvoiceRunState): Promise<InvoiceRunState> {
    const heartbeat = setInterval(() => {
      this.log.publish(state).catch((e: Error) => this.logger.warn(`run heartbeat: ${e.message}`));
    }, HEARTBEAT_MS);
    try {
      await this.log.publish(state);
      // Decisions below read projections: make them reflect everything Kafka holds.
      await this.log.catchUp();
      const closed = await this.log.isClosed(period);
      if (state.mode === 'threshold') {
        if (!closed) {
          await this.thresholds.run(period, state);
          await this.pushing.run(period, state);
        }
      } else {
        if (!closed) await this.monthEnd.run(period, state);
        if (state.finalize) await this.pushing.run(period, state);
      }
      state.status = state.errors.length > 0 || state.counts.push_failed > 0 ? 'failed' : 'completed';
    } catch (e) {
      state.status = 'failed';
      state.errors.push({ message: (e as Error).message });
      this.logger.error(`invoice run ${state.id} for ${period.toString()} failed: ${(e as Error).message}`);
    }
    clearInterval(heartbeat);
    state.finished_at = this.clock.date().toISOString();
    await this.log
      .publish(state)
      .catch((e: Error) => this.logger.error(`could not publish the end of run ${state.id}: ${e.message}`));
    this.logger.log(
      `invoice run ${state.id} for ${period.toString()} ${state.status}: ${JSON.stringify(state.counts)}`,
    );
    return state;
  }
}
