import { PriceCatalog } from '../catalog/price-catalog';
import { RatedCharge } from '../catalog/rating';
import { PlanAssignment } from '../workspaces/workspaces.repository';
import { BillingPeriod } from './billing-period';
import { GrantState, offerGrants, planTermsFor, stateOf } from './grant-allocation';
import { InvoiceDocument, InvoiceLine } from './invoice';
import { adjustmentLines, billedForPeriod } from './billed-lines';
import { grantConsumption, grantLineKey, periodLines } from './invoice-lines';
import { isThresholdInvoice } from './threshold-invoices';

/**
 * Late usage: usage of a closed month recorded after it was invoiced is billed as adjustment
 * lines on a later invoice (src/invoicing/README.md). Pure; the calculator loads the inputs.
 */

/**
 * The closed months before `period` that late usage can still reach (ending after
 * `horizonMs`: events older than EVENT_MAX_AGE_DAYS are refused), oldest first.
 */
export function adjustablePeriods(
  closed: readonly BillingPeriod[],
  period: BillingPeriod,
  horizonMs: number,
): BillingPeriod[] {
  return closed.filter((p) => p.compare(period) < 0 && p.endMs > horizonMs).sort((a, b) => a.compare(b));
}

/**
 * Per workspace, what a closed period's usage comes to now minus everything already billed
 * for it (its invoices and adjustments on later ones), as adjustment lines on
 * `invoicePeriod`'s invoice; a workspace with nothing outstanding is absent. `finalized`: the
 * finalized invoices of the period and of every later one. `rated`: the period's usage as it
 * is now. What the lines take of grants is added to `states`' ledgers.
 */
export function unbilledLines(input: {
  catalog: PriceCatalog;
  adjusted: BillingPeriod;
  invoicePeriod: BillingPeriod;
  finalized: readonly InvoiceDocument[];
  assignments: ReadonlyMap<string, PlanAssignment[]>;
  states: Map<string, GrantState>;
  rated: ReadonlyMap<string, Map<string, RatedCharge>>;
}): Map<string, InvoiceLine[]> {
  const { catalog, adjusted, rated } = input;
  const name = adjusted.toString();
  // The period's own invoices: its month-end invoice and any threshold invoices before it.
  const own = new Map<string, InvoiceDocument[]>();
  for (const d of input.finalized.filter((d) => d.period === name))
    own.set(d.workspace_id, [...(own.get(d.workspace_id) ?? []), d]);
  const later = input.finalized.filter((d) => d.period > name);
  const workspaces = new Set([...rated.keys(), ...own.keys()]);
  for (const d of later) if (d.lines.some((l) => l.adjusts?.period === name)) workspaces.add(d.workspace_id);
  const out = new Map<string, InvoiceLine[]>();
  for (const ws of workspaces) {
    const invoiced = own.get(ws) ?? [];
    const main = invoiced.find((d) => !isThresholdInvoice(d)) ?? invoiced[0];
    // A workspace that got no invoice for the period is charged no base fee for it now.
    const plan = main?.plan ?? {
      ...planTermsFor(catalog, input.assignments.get(ws), adjusted),
      base_fee: '0',
    };
    const billed = billedForPeriod(
      name,
      invoiced.flatMap((d) => d.lines),
      later.filter((d) => d.workspace_id === ws).flatMap((d) => d.lines),
    );
    // Late usage consumes the grants that were in force in its month, in their order, from
    // what is left of them now: each may give the period what it gave before, and more up to
    // its unused balance (never more than the grant, never taken back).
    const s = stateOf(input.states, ws);
    const offered = offerGrants(s, ws, adjusted, plan).map(({ grant, available }) => {
      const before = billed.get(grantLineKey(grant));
      return { grant, available: available.plus(before ? before.amount.neg() : 0) };
    });
    const recomputed = periodLines(ws, name, plan, rated.get(ws) ?? new Map(), offered);
    const lines = adjustmentLines(ws, input.invoicePeriod.toString(), name, recomputed, billed);
    for (const [id, amount] of grantConsumption(lines, name)) s.ledger.add(id, amount);
    if (lines.length > 0) out.set(ws, lines);
  }
  return out;
}
