import { Injectable } from '@nestjs/common';
import { InvoicingConfig } from './invoicing.config';
import { BillingEventsService } from '../platform/billing-events/billing-events.service';
import { Clock } from '../platform/clock';
import { BillingPeriod } from './billing-period';
import { InvoiceRunState } from './invoice-events';
import { InvoiceRunLog } from './invoice-run-log.service';
import { InvoicesRepository } from './invoices.repository';
import { LineTracing } from './line-tracing.service';
import { addCounts, planRunEvents } from './run-plan';
import { THRESHOLD_STOP_BEFORE_FINALIZING_MS, thresholdBillable } from './run-window';
import { ThresholdInvoiceCalculator } from './threshold-invoice-calculator.service';

/**
 * The threshold step of an invoice run (src/invoicing/README.md): for every workspace whose
 * month's unbilled spend reached its threshold, the next threshold invoice is drawn up from
 * exactly the events accepted before a cut (so its lines are traced to them), finalized and
 * published. The candidates are found from the rollups first, so that the raw events are read
 * only for them.
 */
@Injectable()
export class ThresholdInvoicing {
  constructor(
    private readonly calculator: ThresholdInvoiceCalculator,
    private readonly invoices: InvoicesRepository,
    private readonly tracing: LineTracing,
    private readonly billingEvents: BillingEventsService,
    private readonly log: InvoiceRunLog,
    private readonly config: InvoicingConfig,
    private readonly clock: Clock,
  ) {}

  async run(period: BillingPeriod, state: InvoiceRunState): Promise<void> {
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
    if (!thresholdBillable(period, this.config.INVOICE_GRACE_HOURS, this.clock.now()))
      throw new Error(
        `not finalizing threshold invoices of ${period.toString()}: the month may be finalized in less than ${THRESHOLD_STOP_BEFORE_FINALIZING_MS / 60_000} minutes`,
      );
    const { events, counts } = planRunEvents(
      traced,
      new Map(stored.map((s) => [s.document.id, s])),
      true,
      this.clock.date(),
    );
    addCounts(state, counts);
    await this.billingEvents.publishAll(events);
    await this.log.publish(state);
  }
}
