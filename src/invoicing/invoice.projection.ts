import { Injectable, OnModuleInit } from '@nestjs/common';
import { BillingEvent, BillingEventProjection } from '../platform/billing-events/billing-event';
import { BillingEventsService } from '../platform/billing-events/billing-events.service';
import {
  INVOICE_DRAFTED,
  INVOICE_FINALIZED,
  INVOICE_PERIOD_CLOSED,
  INVOICE_RUN_UPDATED,
  InvoiceDocumentData,
  InvoiceRunState,
  PeriodClosedData,
} from './invoice-events';
import { INVOICE_PAID, INVOICE_PAYMENT_FAILED, INVOICE_PUSHED } from '../stripe/stripe-events';
import { InvoicesRepository } from './invoices.repository';
import { isPeriod, refuseDocument } from './invoice';
import { checkFields, isObject, rfc3339, text } from '../platform/billing-events/billing-event-checks';

const RUN_STATUSES: readonly string[] = ['running', 'completed', 'failed'];

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

  refuse(event: BillingEvent): string | null {
    switch (event.type) {
      case INVOICE_DRAFTED:
      case INVOICE_FINALIZED:
        return refuseDocument((event.data as { invoice?: unknown }).invoice, event.subject);
      case INVOICE_PUSHED:
        return checkFields(event.data, {
          invoice_id: text(),
          stripe_customer_id: text(),
          stripe_invoice_id: text(),
          stripe_invoice_item_ids: isObject,
        });
      case INVOICE_PAID:
      case INVOICE_PAYMENT_FAILED:
        return checkFields(event.data, { invoice_id: text(), stripe_event_id: text() });
      case INVOICE_PERIOD_CLOSED:
        return checkFields(event.data, { period: isPeriod, run_id: text() });
      case INVOICE_RUN_UPDATED:
        return checkFields(event.data, {
          id: text(),
          period: isPeriod,
          version: (v) => Number.isSafeInteger(v) && (v as number) >= 0,
          updated_at: rfc3339,
          status: (v) => typeof v === 'string' && RUN_STATUSES.includes(v),
          counts: isObject,
        });
      default:
        return `the invoice projection does not handle ${event.type}`;
    }
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
