import { Injectable, Logger } from '@nestjs/common';
import { StripeConfig } from '../stripe/stripe.config';
import { newBillingEvent } from '../platform/billing-events/billing-event';
import { BillingEventsService } from '../platform/billing-events/billing-events.service';
import { Clock } from '../platform/clock';
import { forEachWithConcurrency } from '../platform/concurrency';
import { MetricsService } from '../platform/metrics/metrics.service';
import { StripeInvoicePusher } from '../stripe/stripe-invoice-pusher.service';
import { WorkspacesRepository } from '../workspaces/workspaces.repository';
import { BillingPeriod } from './billing-period';
import { InvoiceRunState } from './invoice-events';
import { InvoiceRunLog } from './invoice-run-log.service';
import { InvoicesRepository } from './invoices.repository';

const PROGRESS_EVERY_MS = 5_000;
const MAX_ERRORS_KEPT = 50;

/**
 * The push step of an invoice run: every finalized invoice of the month not pushed yet goes to
 * Stripe (StripeInvoicePusher, exactly once), with bounded concurrency (STRIPE_MAX_CONCURRENCY),
 * each followed by its `invoice.pushed`. A failed push is counted and kept in the run's errors;
 * the next run pushes it again.
 */
@Injectable()
export class InvoicePushing {
  private readonly logger = new Logger(InvoicePushing.name);

  constructor(
    private readonly invoices: InvoicesRepository,
    private readonly workspaces: WorkspacesRepository,
    private readonly pusher: StripeInvoicePusher,
    private readonly billingEvents: BillingEventsService,
    private readonly log: InvoiceRunLog,
    private readonly metrics: MetricsService,
    private readonly config: StripeConfig,
    private readonly clock: Clock,
  ) {}

  async run(period: BillingPeriod, state: InvoiceRunState): Promise<void> {
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
    // How often progress is published: a duration this process measures, not the Clock's time.
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
        await this.log.publish(state);
      }
    });
  }
}
