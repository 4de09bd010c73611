import { Injectable, OnModuleInit } from '@nestjs/common';
import {
  BillingEvent,
  BillingEventEnvelope,
  BillingEventProjection,
  BillingEventType,
} from '../platform/billing-events/billing-event';
import { BillingEventsService } from '../platform/billing-events/billing-events.service';
import { InvoiceRunState } from './invoice-events';
import { InvoiceStatusRow, InvoicesRepository } from './invoices.repository';
import { isPeriod, refuseDocument } from './invoice';
import { CreditGrantsRepository } from './credit-grants.repository';
import { grantConsumption } from './invoice-builder';
import {
  checkFields,
  isObject,
  matching,
  optional,
  rfc3339,
  text,
} from '../platform/billing-events/billing-event-checks';

const RUN_STATUSES: readonly string[] = ['running', 'completed', 'failed'];

const HANDLES = [
  'invoice.drafted',
  'invoice.finalized',
  'invoice.pushed',
  'invoice.paid',
  'invoice.payment_failed',
  'invoice.period_closed',
  'invoice_run.updated',
] as const satisfies readonly BillingEventType[];
type Handled = (typeof HANDLES)[number];

/**
 * Projects invoice lifecycle events into ClickHouse. Idempotent and order-tolerant: documents
 * are versioned (a finalization outranks drafts, the first finalization outranks later ones),
 * status rows are keyed by event id, runs by their own version counter.
 */
@Injectable()
export class InvoiceProjection implements BillingEventProjection<Handled>, OnModuleInit {
  readonly handles = HANDLES;

  constructor(
    private readonly invoices: InvoicesRepository,
    private readonly billingEvents: BillingEventsService,
    private readonly creditGrants: CreditGrantsRepository,
  ) {}

  onModuleInit(): void {
    this.billingEvents.register(this);
  }

  refuse(event: BillingEventEnvelope<Handled>): string | null {
    switch (event.type) {
      case 'invoice.drafted':
      case 'invoice.finalized':
        return refuseDocument(isObject(event.data) ? event.data.invoice : undefined, event.subject);
      case 'invoice.pushed':
        return checkFields(event.data, {
          invoice_id: text(),
          stripe_customer_id: text(),
          stripe_invoice_id: text(),
          stripe_invoice_item_ids: isObject,
          stripe_hosted_invoice_url: optional((v) => v === null || matching(/^https:\/\/\S{1,2000}$/)(v)),
        });
      case 'invoice.paid':
      case 'invoice.payment_failed':
        return checkFields(event.data, { invoice_id: text(), stripe_event_id: text() });
      case 'invoice.period_closed':
        return checkFields(event.data, { period: isPeriod, run_id: text() });
      case 'invoice_run.updated':
        return checkFields(event.data, {
          id: text(),
          period: isPeriod,
          version: (v) => Number.isSafeInteger(v) && (v as number) >= 0,
          updated_at: rfc3339,
          status: (v) => typeof v === 'string' && RUN_STATUSES.includes(v),
          counts: isObject,
        });
    }
  }

  async apply(event: BillingEvent<Handled>): Promise<void> {
    await this.applyBatch([event]);
  }

  async applyBatch(events: BillingEvent<Handled>[]): Promise<void> {
    const documents = [];
    const statuses: Array<InvoiceStatusRow & { workspace_id: string }> = [];
    const closed = [];
    const runs: InvoiceRunState[] = [];
    const consumption = [];
    for (const event of events) {
      const at = Date.parse(event.time);
      switch (event.type) {
        case 'invoice.drafted':
        case 'invoice.finalized': {
          const { invoice } = event.data;
          documents.push({ document: invoice, finalized: event.type === 'invoice.finalized', atMs: at });
          // The ledger of credit grants: what this finalized invoice took of each.
          if (event.type === 'invoice.finalized')
            for (const [grantId, amount] of grantConsumption(invoice.lines, invoice.period))
              consumption.push({
                workspace_id: invoice.workspace_id,
                grant_id: grantId,
                invoice_id: invoice.id,
                amount: amount.toFixed(2),
                finalized_at_ms: at,
                event_id: event.id,
              });
          break;
        }
        case 'invoice.period_closed': {
          const data = event.data;
          closed.push({ period: data.period, run_id: data.run_id, closed_at_ms: at });
          break;
        }
        case 'invoice_run.updated':
          runs.push(event.data);
          break;
        case 'invoice.pushed':
        case 'invoice.paid':
        case 'invoice.payment_failed':
          // `type` and `data` come from one event: the pair is one member of the union.
          statuses.push({
            workspace_id: event.subject,
            invoice_id: event.data.invoice_id,
            event_id: event.id,
            occurred_at_ms: at,
            type: event.type,
            data: event.data,
          } as InvoiceStatusRow & { workspace_id: string });
      }
    }
    if (documents.length) await this.invoices.putDocuments(documents);
    if (statuses.length) await this.invoices.appendStatuses(statuses);
    if (closed.length) await this.invoices.closePeriods(closed);
    if (runs.length) await this.invoices.putRuns(runs);
    if (consumption.length) await this.creditGrants.insertConsumption(consumption);
  }
}
