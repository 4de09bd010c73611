import { createHash } from 'node:crypto';
import { BillingEvent, newBillingEvent } from '../platform/billing-events/billing-event';
import { InvoiceDocument } from './invoice';

/** A document's content without the moment it was computed: equal content, same invoice. */
export function contentHash(doc: InvoiceDocument): string {
  const content: Partial<InvoiceDocument> = { ...doc };
  delete content.computed_at;
  return createHash('sha256').update(JSON.stringify(content)).digest('hex').slice(0, 16);
}

export interface RunPlanCounts {
  invoices: number;
  drafted: number;
  finalized: number;
  already_finalized: number;
}

/**
 * What a run publishes for the invoices it computed, given what is stored (pure; the run's
 * decisions, table-tested): a finalized invoice is never touched again; a draft is published
 * when it is new or its content changed (same content: nothing, whatever computed_at says),
 * with an id derived from the content so a repeated run publishes nothing new; when the run
 * finalizes, each invoice not yet final gets its finalization (one id per invoice).
 */
export function planRunEvents(
  computed: readonly InvoiceDocument[],
  stored: ReadonlyMap<string, { document: InvoiceDocument; finalized: boolean }>,
  finalize: boolean,
  now: Date,
): { events: BillingEvent[]; counts: RunPlanCounts } {
  const counts: RunPlanCounts = { invoices: computed.length, drafted: 0, finalized: 0, already_finalized: 0 };
  const events: BillingEvent[] = [];
  for (const doc of computed) {
    const previous = stored.get(doc.id);
    if (previous?.finalized) {
      counts.already_finalized++;
      continue;
    }
    const hash = contentHash(doc);
    if (!previous || contentHash(previous.document) !== hash) {
      events.push({
        ...newBillingEvent('invoice.drafted', doc.workspace_id, { invoice: doc }, now),
        id: `invoice.drafted:${doc.id}:${hash}`,
      });
      counts.drafted++;
    }
    if (finalize) {
      events.push({
        ...newBillingEvent('invoice.finalized', doc.workspace_id, { invoice: doc }, now),
        id: `invoice.finalized:${doc.id}`,
      });
      counts.finalized++;
    }
  }
  return { events, counts };
}

/** Adds what a step planned to a run's counts (`invoices` is the step's total, not a sum). */
export function addCounts(
  state: { counts: RunPlanCounts & Record<string, number> },
  counts: RunPlanCounts,
): void {
  state.counts.invoices = counts.invoices;
  state.counts.drafted += counts.drafted;
  state.counts.finalized += counts.finalized;
  state.counts.already_finalized += counts.already_finalized;
}
