import { Clock } from '../platform/clock';
import { InvoicingConfig } from './invoicing.config';
import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { BillingPeriod } from './billing-period';
import { ThresholdInvoiceCalculator } from './threshold-invoice-calculator.service';
import { InvoiceRunService } from './invoice-run.service';
import { InvoicesRepository } from './invoices.repository';

/** How many closed months back the scheduler looks for one without a completed run. */
const LOOKBACK_PERIODS = 3;

/**
 * Runs each period by itself once its grace period is over: every
 * INVOICE_SCHEDULER_INTERVAL_SECONDS it takes the oldest of the last few periods that may
 * be finalized and has no completed finalizing run, and runs it. A failed run (e.g. Stripe
 * down) is simply run again on a later tick; runs are safe to repeat.
 */
@Injectable()
export class InvoiceScheduler implements OnApplicationShutdown {
  private readonly logger = new Logger(InvoiceScheduler.name);
  private timer?: NodeJS.Timeout;
  private thresholdTimer?: NodeJS.Timeout;
  private ticking = false;
  private thresholdTicking = false;

  constructor(
    private readonly config: InvoicingConfig,
    private readonly runs: InvoiceRunService,
    private readonly invoices: InvoicesRepository,
    private readonly thresholdCalculator: ThresholdInvoiceCalculator,
    private readonly clock: Clock,
  ) {}

  start(): void {
    const thresholdsEvery = this.config.THRESHOLD_BILLING_INTERVAL_SECONDS;
    if (thresholdsEvery > 0) {
      this.logger.log(`threshold invoices: checked every ${thresholdsEvery} s`);
      this.thresholdTimer = setInterval(() => void this.thresholdTick(), thresholdsEvery * 1000);
    }
    const every = this.config.INVOICE_SCHEDULER_INTERVAL_SECONDS;
    if (every === 0) return;
    this.logger.log(`invoice scheduler on: every ${every} s, grace ${this.config.INVOICE_GRACE_HOURS} h`);
    this.timer = setInterval(() => void this.tick(), every * 1000);
    void this.tick();
  }

  /** One look: starts at most one run and waits for it. */
  async tick(nowMs = this.clock.now()): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const periods: BillingPeriod[] = [];
      for (
        let p = BillingPeriod.containing(nowMs).previous(), i = 0;
        i < LOOKBACK_PERIODS;
        i++, p = p.previous()
      )
        periods.unshift(p);
      for (const period of periods) {
        if (!this.runs.isFinalizable(period, nowMs)) continue;
        const runs = await this.invoices.runsForPeriod(period.toString());
        if (runs.some((r) => r.mode !== 'threshold' && r.finalize && r.status === 'completed')) continue;
        this.logger.log(`invoicing ${period.toString()} (grace over, no completed run)`);
        await this.runs.start(period, 'scheduler').done;
        break;
      }
    } catch (e) {
      this.logger.error(`invoice scheduler: ${(e as Error).message}`);
    } finally {
      this.ticking = false;
    }
  }

  /**
   * One look for threshold invoices: a threshold run of the open month, and of the month
   * before while it may not be finalized soon (usage of its last hours still arriving).
   */
  async thresholdTick(nowMs = this.clock.now()): Promise<void> {
    if (this.thresholdTicking) return;
    this.thresholdTicking = true;
    try {
      const open = BillingPeriod.containing(nowMs);
      for (const period of [open.previous(), open]) {
        if (!this.runs.thresholdBillable(period, nowMs)) continue;
        // No run (and no run events) while no workspace is held to a threshold.
        if (!(await this.thresholdCalculator.anyThresholds(period))) continue;
        const state = await this.runs.start(period, 'scheduler', 'threshold').done;
        if (state.counts.finalized > 0)
          this.logger.log(`threshold invoices of ${period.toString()}: ${state.counts.finalized} finalized`);
      }
    } catch (e) {
      this.logger.error(`threshold invoices: ${(e as Error).message}`);
    } finally {
      this.thresholdTicking = false;
    }
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.thresholdTimer) clearInterval(this.thresholdTimer);
  }
}
