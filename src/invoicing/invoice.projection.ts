import { Injectable, OnModuleInit } from '@nestjs/common';
import { BillingEvent, BillingEventProjection } from '../platform/billing-events/billing-event';
import { BillingEventsService } from '../platform/billing-events/billing-events.service';
import {
  INVOICE_DRAFTED,
  INVOICE_FINALIZED,
  INVOICE_PAID,
  INVOICE_PAYMENT_FAILED,
  INVOICE_PERIOD_CLOSED,
  INVOICE_PUSHED,
  INVOICE_RUN_UPDATED,
  InvoiceDocumentData,
  InvoiceRunState,
  PeriodClosedData,
} from './invoice-events';
import { InvoicesRepository } from './invoices.repository';

/**
 * Projects invoice lifecycle events into ClickHouse. Idempotent and order-tolerant: documents
 * are versioned (a finalization outranks drafts, the first finalization outranks later ones),
 * status rows are keyed by event id, runs by their own version counter.
 */
@Injectable()
export class InvoiceProjection implements BillingEventProjection, OnModuleInit {
  readonly handles = [
    INVOICE_DRAFTED,
    INVOICE_FINALIZED,
    INVOICE_PUSHED,
    INVOICE_PAID,
    INVOICE_PAYMENT_FAILED,
    INVOICE_PERIOD_CLOSED,
    INVOICE_RUN_UPDATED,
  ];

  constructor(
    private readonly invoices: InvoicesRepository,
    private readonly billingEvents: BillingEventsService,
  ) {}

  onModuleInit(): void {
    this.billingEvents.register(this);
  }

  async apply(event: BillingEvent): Promise<void> {
    await this.applyBatch([event]);
  }

  async applyBatch(events: BillingEvent[]): Promise<void> {
    const documents = [];
    const statuses = [];
    const closed = [];
    const runs: InvoiceRunState[] = [];
    for (const event of events) {
      const at = Date.parse(event.time);
      switch (event.type) {
        case INVOICE_DRAFTED:
        case INVOICE_FINALIZED: {
          const { invoice } = event.data as InvoiceDocumentData;
          documents.push({ document: invoice, finalized: event.type === INVOICE_FINALIZED, atMs: at });
          break;
        }
        case INVOICE_PERIOD_CLOSED: {
          const data = event.data as PeriodClosedData;
          closed.push({ period: data.period, run_id: data.run_id, closed_at_ms: at });
          break;
        }
        case INVOICE_RUN_UPDATED:
          runs.push(event.data as InvoiceRunState);
          break;
        default: {
          const data = event.data as { invoice_id: string };
          statuses.push({
            workspace_id: event.subject,
            invoice_id: data.invoice_id,
            event_id: event.id,
            type: event.type,
            occurred_at_ms: at,
            data,
          });
        }
      }
    }
    if (documents.length) await this.invoices.putDocuments(documents);
    if (statuses.length) await this.invoices.appendStatuses(statuses);
    if (closed.length) await this.invoices.closePeriods(closed);
    if (runs.length) await this.invoices.putRuns(runs);
  }
}
