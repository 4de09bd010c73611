import { Injectable } from '@nestjs/common';
import { UsageRollupsRepository } from '../metering/usage-rollups.repository';
import { newBillingEvent, SYSTEM_SUBJECT } from '../platform/billing-events/billing-event';
import { BillingEventsService } from '../platform/billing-events/billing-events.service';
import { Clock } from '../platform/clock';
import { BillingPeriod } from './billing-period';
import { InvoiceDocument } from './invoice';
import { InvoiceCalculator, monthsFrom } from './invoice-calculator.service';
import { InvoiceRunState } from './invoice-events';
import { InvoiceRunLog } from './invoice-run-log.service';
import { InvoicesRepository } from './invoices.repository';
import { LineTracing } from './line-tracing.service';
import { addCounts, planRunEvents } from './run-plan';

const ROLLUP_CHECK_ATTEMPTS = 4;
const ROLLUP_CHECK_PAUSE_MS = 1500;

/**
 * The month-end step of an invoice run: every invoice of the month computed from its usage,
 * drafted, and — once the month's grace has passed — traced to its events, finalized, and
 * the month closed. Finalized invoices are never recomputed (run-plan.ts).
 */
@Injectable()
export class MonthEndInvoicing {
  constructor(
    private readonly calculator: InvoiceCalculator,
    private readonly invoices: InvoicesRepository,
    private readonly rollups: UsageRollupsRepository,
    private readonly tracing: LineTracing,
    private readonly billingEvents: BillingEventsService,
    private readonly log: InvoiceRunLog,
    private readonly clock: Clock,
  ) {}

  /** Drafts changed invoices; when the period may be finalized, finalizes them and closes the period. */
  async run(period: BillingPeriod, state: InvoiceRunState): Promise<void> {
    // The cut the finalized lines' events are taken at: before the usage is rated.
    const cutMs = state.finalize ? await this.tracing.cut() : undefined;
    if (state.finalize) await this.checkRollups(period);
    let docs = await this.calculator.compute(period);
    const existing = new Map(
      (await this.invoices.documents({ periods: [period.toString()] })).map((s) => [s.document.id, s]),
    );
    if (cutMs !== undefined) docs = await this.traceLines(docs, existing, period, cutMs);
    const { events, counts } = planRunEvents(docs, existing, state.finalize, this.clock.date());
    addCounts(state, counts);
    await this.billingEvents.publishAll(events);
    if (state.finalize)
      await this.billingEvents.publish({
        ...newBillingEvent(
          'invoice.period_closed',
          SYSTEM_SUBJECT,
          { period: period.toString(), run_id: state.id },
          this.clock.date(),
        ),
        id: `invoice.period_closed:${period.toString()}`,
      });
    await this.log.publish(state);
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
    const first = adjusted.length > 0 ? BillingPeriod.parse(adjusted.sort()[0])! : period;
    const finalized = await this.invoices.documents({
      periods: monthsFrom(first, period).map(String),
      finalizedOnly: true,
    });
    const traced = new Map(
      (await this.tracing.attach(pending, period, cutMs, finalized)).map((d) => [d.id, d]),
    );
    return docs.map((d) => traced.get(d.id) ?? d);
  }
}
