import { Clock } from '../platform/clock';
import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { HOUR_MS } from '../common/time';
import { AppConfig } from '../config/app-config';
import { newBillingEvent, SYSTEM_SUBJECT } from '../platform/billing-events/billing-event';
import { BillingEventsService } from '../platform/billing-events/billing-events.service';
import { UsageRollupsRepository } from '../metering/usage-rollups.repository';
import { forEachWithConcurrency } from '../platform/concurrency';
import { MetricsService } from '../platform/metrics/metrics.service';
import { StripeInvoicePusher } from '../stripe/stripe-invoice-pusher.service';
import { WorkspacesRepository } from '../workspaces/workspaces.repository';
import { BillingPeriod } from './billing-period';
import { ApiError } from '../common/api-error';
import { InvoiceCalculator } from './invoice-calculator.service';
import { InvoiceRunMode, InvoiceRunState } from './invoice-events';
import { InvoicesRepository } from './invoices.repository';
import { planRunEvents } from './run-plan';
import { InvoiceDocument } from './invoice';
import { LineTracing } from './line-tracing.service';

const PROGRESS_EVERY_MS = 5_000;
const HEARTBEAT_MS = 15_000;
const ABANDONED_AFTER_MS = 4 * HEARTBEAT_MS;
const MAX_ERRORS_KEPT = 50;
const ROLLUP_CHECK_ATTEMPTS = 4;
const ROLLUP_CHECK_PAUSE_MS = 1500;
/**
 * Threshold invoices of a month stop this long before the month may be finalized: a month-end
 * run then never computes the rest of a month while a threshold invoice of it is published.
 */
export const THRESHOLD_STOP_BEFORE_FINALIZING_MS = 10 * 60_000;

/**
 * Invoice runs: derive every invoice of a period from its usage, draft them, finalize them
 * once the period's grace has passed, close the period, and push each finalized invoice to
 * Stripe. Every step is an event with a deterministic id and every decision is re-derived
 * from the projections (after catching up with Kafka), so a run can be repeated or killed at
 * any point and run again: finalized invoices are never recomputed, pushed ones never pushed
 * again, and the pusher reconciles with Stripe before creating anything.
 */
@Injectable()
export class InvoiceRunService {
  private readonly logger = new Logger(InvoiceRunService.name);
  /** Runs executing in this process, by period and mode: one of each at a time. */
  private readonly active = new Map<string, { state: InvoiceRunState; done: Promise<InvoiceRunState> }>();
  /** The last run of each period started here: runs of one period (either mode) go one after the other. */
  private readonly lastOfPeriod = new Map<string, Promise<unknown>>();

  constructor(
    private readonly config: AppConfig,
    private readonly billingEvents: BillingEventsService,
    private readonly calculator: InvoiceCalculator,
    private readonly invoices: InvoicesRepository,
    private readonly workspaces: WorkspacesRepository,
    private readonly pusher: StripeInvoicePusher,
    private readonly metrics: MetricsService,
    private readonly rollups: UsageRollupsRepository,
    private readonly tracing: LineTracing,
    private readonly clock: Clock,
  ) {}

  /** Whether a period's invoices may be finalized at `nowMs` (its end plus the grace period has passed). */
  isFinalizable(period: BillingPeriod, nowMs = this.clock.now()): boolean {
    return nowMs >= period.endMs + this.config.INVOICE_GRACE_HOURS * HOUR_MS;
  }

  /**
   * Whether threshold invoices of a period may be drawn up at `nowMs`: from its start until
   * THRESHOLD_STOP_BEFORE_FINALIZING_MS before it may be finalized.
   */
  thresholdBillable(period: BillingPeriod, nowMs = this.clock.now()): boolean {
    const finalizableAt = period.endMs + this.config.INVOICE_GRACE_HOURS * HOUR_MS;
    return nowMs >= period.startMs && nowMs < finalizableAt - THRESHOLD_STOP_BEFORE_FINALIZING_MS;
  }

  /**
   * Starts a run (or returns the one of that mode already running for the period in this
   * process). A month-end run takes a month that has ended (the open month is previewed, GET
   * /v1/invoices/upcoming); a threshold run a month that may not be finalized soon.
   */
  start(
    period: BillingPeriod,
    trigger: InvoiceRunState['trigger'],
    mode: InvoiceRunMode = 'month_end',
  ): { state: InvoiceRunState; done: Promise<InvoiceRunState> } {
    const now = this.clock.date();
    if (mode === 'month_end' && !period.hasEnded(now.getTime()))
      throw ApiError.invalid(
        'period',
        `period must be a month that has ended (${period.toString()} ends ${new Date(period.endMs).toISOString()})`,
      );
    if (mode === 'threshold' && !this.thresholdBillable(period, now.getTime()))
      throw ApiError.invalid(
        'period',
        `threshold invoices of ${period.toString()} are drawn up from its start until ${THRESHOLD_STOP_BEFORE_FINALIZING_MS / 60_000} minutes before it may be finalized (${new Date(period.endMs + this.config.INVOICE_GRACE_HOURS * HOUR_MS).toISOString()})`,
      );
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
      counts: {
        invoices: 0,
        drafted: 0,
        finalized: 0,
        already_finalized: 0,
        pushed: 0,
        already_pushed: 0,
        push_failed: 0,
      },
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
    const run = await this.invoices.run(id);
    // A run whose process died stops beating: say so (running it again finishes its work).
    if (run?.status === 'running' && nowMs - Date.parse(run.updated_at) > ABANDONED_AFTER_MS)
      return { ...run, status: 'abandoned' };
    return run;
  }

  private async publishState(state: InvoiceRunState): Promise<void> {
    const { status } = state;
    if (status === 'abandoned') throw new Error(`run ${state.id}: 'abandoned' is a reading, never published`);
    state.version++;
    state.updated_at = this.clock.date().toISOString();
    await this.billingEvents.publish({
      ...newBillingEvent('invoice_run.updated', SYSTEM_SUBJECT, { ...state, status }, this.clock.date()),
      id: `invoice_run.updated:${state.id}:${state.version}`,
    });
  }

  private async execute(period: BillingPeriod, state: InvoiceRunState): Promise<InvoiceRunState> {
    const heartbeat = setInterval(() => {
      this.publishState(state).catch((e: Error) => this.logger.warn(`run heartbeat: ${e.message}`));
    }, HEARTBEAT_MS);
    try {
      await this.publishState(state);
      // Decisions below read projections: make them reflect everything Kafka holds.
      await this.billingEvents.catchUp();
      const closed = (await this.invoices.closedPeriods()).has(period.toString());
      if (state.mode === 'threshold') {
        if (!closed) {
          await this.deriveThresholdInvoices(period, state);
          await this.pushInvoices(period, state);
        }
      } else {
        if (!closed) await this.deriveInvoices(period, state);
        if (state.finalize) await this.pushInvoices(period, state);
      }
      state.status = state.errors.length > 0 || state.counts.push_failed > 0 ? 'failed' : 'completed';
    } catch (e) {
      state.status = 'failed';
      state.errors.push({ message: (e as Error).message });
      this.logger.error(`invoice run ${state.id} for ${period.toString()} failed: ${(e as Error).message}`);
    }
    clearInterval(heartbeat);
    state.finished_at = this.clock.date().toISOString();
    await this.publishState(state).catch((e: Error) =>
      this.logger.error(`could not publish the end of run ${state.id}: ${e.message}`),
    );
    this.logger.log(
      `invoice run ${state.id} for ${period.toString()} ${state.status}: ${JSON.stringify(state.counts)}`,
    );
    return state;
  }

  /**
   * Refuses to finalize from rollups that disagree with the raw events (a failed view insert
   * would leave raw rows without their rollup). A disagreement seen while inserts are in flight
   * is transient — an insert's raw part becomes visible before its rollup part — so it is
   * looked at again before it counts.
   */
  private async checkRollups(period: BillingPeriod): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const mismatches = await this.rollups.rollupMismatches(period.startMs, period.endMs);
      if (mismatches.length === 0) return;
      if (attempt >= ROLLUP_CHECK_ATTEMPTS) {
        const first = mismatches[0];
        throw new Error(
          `not finalizing ${period.toString()}: hourly rollups disagree with raw usage events for ` +
            `${mismatches.length} workspace(s), e.g. ${first.workspace_id} (GPU/CPU/memory ms and events raw ${first.expected}, ` +
            `rollups ${first.found}); see src/metering/README.md`,
        );
      }
      await new Promise((r) => setTimeout(r, ROLLUP_CHECK_PAUSE_MS));
    }
  }

  /** Drafts changed invoices; when the period may be finalized, finalizes them and closes the period. */
  private async deriveInvoices(period: BillingPeriod, state: InvoiceRunState): Promise<void> {
    // The cut the finalized lines' events are taken at: before the usage is rated.
    const cutMs = state.finalize ? await this.tracing.cut() : undefined;
    if (state.finalize) await this.checkRollups(period);
    let docs = await this.calculator.compute(period);
    const existing = new Map(
      (await this.invoices.documents({ periods: [period.toString()] })).map((s) => [s.document.id, s]),
    );
    if (cutMs !== undefined) docs = await this.traceLines(docs, existing, period, cutMs);
    const { events, counts } = planRunEvents(docs, existing, state.finalize, this.clock.date());
    state.counts.invoices = counts.invoices;
    state.counts.drafted += counts.drafted;
    state.counts.finalized += counts.finalized;
    state.counts.already_finalized += counts.already_finalized;
    await this.billingEvents.publishAll(events);
    if (state.finalize) {
      await this.billingEvents.publish({
        ...newBillingEvent(
          'invoice.period_closed',
          SYSTEM_SUBJECT,
          {
            period: period.toString(),
            run_id: state.id,
          },
          this.clock.date(),
        ),
        id: `invoice.period_closed:${period.toString()}`,
      });
    }
    await this.publishState(state);
  }

  /**
   * Threshold invoices (src/invoicing/README.md): for every workspace whose month's unbilled
   * spend reached its threshold, the next one is drawn up from exactly the events accepted
   * before a cut (so its lines are traced to them), finalized and published. The candidates
   * are found from the rollups first, so that the raw events are read only for them.
   */
  private async deriveThresholdInvoices(period: BillingPeriod, state: InvoiceRunState): Promise<void> {
    const candidates = (await this.calculator.thresholdInvoices(period))
      .filter((c) => c.due)
      .map((c) => c.doc.workspace_id);
    if (candidates.length === 0) return;
    const cutMs = await this.tracing.cut();
    const due = (
      await this.calculator.thresholdInvoices(period, { acceptedByMs: cutMs - 1, workspaceIds: candidates })
    )
      .filter((c) => c.due)
      .map((c) => c.doc);
    if (due.length === 0) return;
    const stored = await this.invoices.documents({ periods: [period.toString()] });
    const traced = await this.tracing.attach(
      due,
      period,
      cutMs,
      stored.filter((s) => s.finalized),
    );
    // A run that took too long must not publish once a month-end run may have begun.
    if (!this.thresholdBillable(period))
      throw new Error(
        `not finalizing threshold invoices of ${period.toString()}: the month may be finalized in less than ${THRESHOLD_STOP_BEFORE_FINALIZING_MS / 60_000} minutes`,
      );
    const { events, counts } = planRunEvents(
      traced,
      new Map(stored.map((s) => [s.document.id, s])),
      true,
      this.clock.date(),
    );
    state.counts.invoices = counts.invoices;
    state.counts.drafted += counts.drafted;
    state.counts.finalized += counts.finalized;
    state.counts.already_finalized += counts.already_finalized;
    await this.billingEvents.publishAll(events);
    await this.publishState(state);
  }

  /** The invoices about to be finalized with their usage lines traced to their events (LineTracing). */
  private async traceLines(
    docs: InvoiceDocument[],
    existing: ReadonlyMap<string, { finalized: boolean }>,
    period: BillingPeriod,
    cutMs: number,
  ): Promise<InvoiceDocument[]> {
    const pending = docs.filter((d) => !existing.get(d.id)?.finalized);
    const adjusted = pending.flatMap((d) => d.lines.flatMap((l) => (l.adjusts ? [l.adjusts.period] : [])));
    // Adjusted months up to this one: its own finalized invoices (threshold invoices) count too.
    const months: string[] = [];
    const first = adjusted.length > 0 ? BillingPeriod.parse(adjusted.sort()[0])! : period;
    for (let p = first; p.compare(period) <= 0; p = p.next()) months.push(p.toString());
    const finalized = await this.invoices.documents({ periods: months, finalizedOnly: true });
    const traced = new Map(
      (await this.tracing.attach(pending, period, cutMs, finalized)).map((d) => [d.id, d]),
    );
    return docs.map((d) => traced.get(d.id) ?? d);
  }

  /** Pushes every finalized, not yet pushed invoice of the period, with bounded concurrency. */
  private async pushInvoices(period: BillingPeriod, state: InvoiceRunState): Promise<void> {
    const finalized = (
      await this.invoices.documents({ periods: [period.toString()], finalizedOnly: true })
    ).map((s) => s.document);
    const pushed = new Set(
      (await this.invoices.statusRows(finalized.map((d) => d.id)))
        .filter((r) => r.type === 'invoice.pushed')
        .map((r) => r.invoice_id),
    );
    const toPush = finalized.filter((d) => !pushed.has(d.id));
    state.counts.invoices = Math.max(state.counts.invoices, finalized.length);
    state.counts.already_pushed = finalized.length - toPush.length;
    if (toPush.length === 0) return;
    const workspaces = new Map((await this.workspaces.listAll()).map((w) => [w.id, w]));
    const directory = await this.pusher.directory();
    let lastProgress = Date.now();
    await forEachWithConcurrency(toPush, this.config.STRIPE_MAX_CONCURRENCY, async (doc) => {
      try {
        const w = workspaces.get(doc.workspace_id);
        const data = await this.pusher.push(
          doc,
          { id: doc.workspace_id, name: w?.name, email: w?.email },
          directory,
        );
        await this.billingEvents.publish({
          ...newBillingEvent('invoice.pushed', doc.workspace_id, data, this.clock.date()),
          id: `invoice.pushed:${doc.id}`,
        });
        state.counts.pushed++;
        this.metrics.invoicesPushed.inc();
      } catch (e) {
        state.counts.push_failed++;
        this.metrics.invoicePushFailures.inc();
        // The run's state travels as one event: keep the first errors, count them all.
        if (state.errors.length < MAX_ERRORS_KEPT)
          state.errors.push({ invoice_id: doc.id, message: (e as Error).message });
        this.logger.error(`pushing ${doc.id} to Stripe failed: ${(e as Error).message}`);
      }
      if (Date.now() - lastProgress > PROGRESS_EVERY_MS) {
        lastProgress = Date.now();
        await this.publishState(state);
      }
    });
  }
}
