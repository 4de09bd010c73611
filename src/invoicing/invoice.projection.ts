import { Injectable } from '@nestjs/common';
import { BillingEvent, HandledBy, ProjectionOf } from '../platform/billing-events/billing-event';
import { InvoiceRunState } from './invoice-events';
import { InvoiceStatusRow, InvoicesRepository } from './invoices.repository';
import { CreditGrantsRepository } from './credit-grants.repository';
import { grantConsumption } from './invoice-lines';

const Base = ProjectionOf(
  'invoice.drafted',
  'invoice.finalized',
  'invoice.pushed',
  'invoice.paid',
  'invoice.payment_failed',
  'invoice.period_closed',
  'invoice_run.updated',
);
type Handled = HandledBy<typeof Base>;

/**
 * Projects invoice lifecycle events into ClickHouse. Idempotent and order-tolerant: documents
 * are versioned (a finalization outranks drafts, the first finalization outranks later ones),
 * status rows are keyed by event id, runs by their own version counter.
 */
@Injectable()
export class InvoiceProjection extends Base {
  constructor(
    private readonly invoices: InvoicesRepository,
    private readonly creditGrants: CreditGrantsRepository,
  ) {
    super();
  }

  async apply(events: readonly BillingEvent<Handled>[]): Promise<void> {
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
