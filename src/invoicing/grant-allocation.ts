import { Money } from '../catalog/money';
import { PlanTerms, PriceCatalog } from '../catalog/price-catalog';
import { RatedCharge } from '../catalog/rating';
import { PlanAssignment, planForPeriod } from '../workspaces/workspaces.repository';
import { BillingPeriod } from './billing-period';
import {
  CreditGrant,
  GrantLedger,
  inForceDuring,
  OfferedGrant,
  planGrant,
  unusedBalance,
} from './credit-grants';
import { InvoiceDocument } from './invoice';
import { grantConsumption, periodLines } from './invoice-lines';
import { isThresholdInvoice } from './threshold-invoices';

/**
 * How a month's usage is given credit grants (src/invoicing/README.md, credit grants): pure
 * functions over a workspace's grants and the ledger of what invoices took of them. The
 * calculator loads the inputs (period-inputs.ts) and calls these in order.
 */

/** A workspace's credit grants and what invoices took of them so far. */
export interface GrantState {
  grants: CreditGrant[];
  ledger: GrantLedger;
}

/** Months before the one computed whose drafts a grant's balance waits for, at most. */
export const MAX_CHAIN_MONTHS = 12;

/** What a month is billed on when its plan has no terms in it: list prices, nothing else. */
export const withoutTerms = (plan: string): PlanTerms => ({ plan, base_fee: '0', monthly_credits: '0' });

/**
 * The plan terms a workspace's month is billed on: its plan's terms for the month
 * (PriceCatalog.planTermsDuring). A plan with no terms before the month ends — a workspace
 * put on a plan not yet in force, which only builds before issue 24 accepted — bills the
 * month's usage at list prices with no base fee and no plan credits (other grants still
 * apply); reconciliation names it (`catalog.plan_without_terms`) and it never stops a run or
 * a reader for the other workspaces (src/invoicing/README.md#plans-without-terms).
 */
export function planTermsFor(
  catalog: PriceCatalog,
  assignments: readonly PlanAssignment[] | undefined,
  period: BillingPeriod,
): PlanTerms {
  const name = planForPeriod(assignments, period.startMs);
  return catalog.planTermsDuring(name, period.startMs, period.endMs) ?? withoutTerms(name);
}

/** Every workspace's grants and ledger, from the grants and the finalized consumption. */
export function grantStatesOf(
  grants: ReadonlyMap<string, CreditGrant[]>,
  ledgers: ReadonlyMap<string, GrantLedger>,
): Map<string, GrantState> {
  const out = new Map<string, GrantState>();
  for (const ws of new Set([...grants.keys(), ...ledgers.keys()]))
    out.set(ws, { grants: grants.get(ws) ?? [], ledger: ledgers.get(ws) ?? new GrantLedger() });
  return out;
}

/** A workspace's state (an empty one, kept, for a workspace with no grant and no ledger). */
export function stateOf(states: Map<string, GrantState>, ws: string): GrantState {
  let s = states.get(ws);
  if (!s) states.set(ws, (s = { grants: [], ledger: new GrantLedger() }));
  return s;
}

/**
 * The grants usage of `period` may consume, each with what is left of it (the plan's credits
 * first among equals). `reserved`: what the month's threshold invoices took of each (see
 * reserveForMonth) — the month's own again, even of a grant voided since.
 */
export function offerGrants(
  s: GrantState,
  ws: string,
  period: BillingPeriod,
  plan: PlanTerms,
  reserved: ReadonlyMap<string, Money> = new Map(),
): OfferedGrant[] {
  return [...s.grants.filter((g) => inForceDuring(g, period)), planGrant(ws, period, plan)].map((grant) => ({
    grant,
    available: unusedBalance(grant, s.ledger.consumedOf(grant.grant_id)).plus(
      grant.voided_at_ms !== null ? (reserved.get(grant.grant_id) ?? 0) : 0,
    ),
  }));
}

/**
 * A month billed in parts is allocated whole again (its invoices are its usage so far, or
 * all of it, less what its threshold invoices billed): what those took of each grant is
 * given back to the ledger here and returned, to be taken again by the month as a whole.
 */
export function reserveForMonth(
  s: GrantState,
  thresholdDocs: readonly InvoiceDocument[],
  period: BillingPeriod,
): Map<string, Money> {
  const reserved = grantConsumption(
    thresholdDocs.flatMap((d) => d.lines),
    period.toString(),
  );
  for (const [id, amount] of reserved) s.ledger.add(id, amount.neg());
  return reserved;
}

/** Finalized threshold invoices per `<workspace>/<month>`, in their order. */
export function thresholdsByMonth(finalized: readonly InvoiceDocument[]): Map<string, InvoiceDocument[]> {
  const out = new Map<string, InvoiceDocument[]>();
  for (const d of finalized) {
    if (!isThresholdInvoice(d)) continue;
    const k = `${d.workspace_id}/${d.period}`;
    out.set(k, [...(out.get(k) ?? []), d]);
  }
  for (const docs of out.values()) docs.sort((a, b) => a.threshold!.sequence - b.threshold!.sequence);
  return out;
}

/**
 * The months between the last closed one before `period` and `period` in which some grant is
 * in force, oldest first (at most MAX_CHAIN_MONTHS back): their usage consumes grants before
 * `period` does, as their drafts would.
 */
export function monthsToChain(
  period: BillingPeriod,
  closed: readonly BillingPeriod[],
  states: ReadonlyMap<string, GrantState>,
): BillingPeriod[] {
  const withGrants = [...states.values()].filter((s) => s.grants.length > 0);
  if (withGrants.length === 0) return [];
  const lastClosed = closed.filter((p) => p.compare(period) < 0).sort((a, b) => b.compare(a))[0];
  const first = lastClosed?.next();
  const months: BillingPeriod[] = [];
  for (let p = period.previous(), i = 0; i < MAX_CHAIN_MONTHS; p = p.previous(), i++) {
    if (first !== undefined && p.compare(first) < 0) break;
    if (withGrants.some((s) => s.grants.some((g) => inForceDuring(g, p)))) months.unshift(p);
  }
  return months;
}

/**
 * Adds to each workspace's ledger what its usage of `month` takes of its grants, as the
 * month's draft would: for workspaces with a grant in force in it whose month-end invoice is
 * not finalized (`finalized`: the documents of the chained months that are).
 */
export function consumeMonth(input: {
  month: BillingPeriod;
  catalog: PriceCatalog;
  usage: ReadonlyMap<string, Map<string, RatedCharge>>;
  assignments: ReadonlyMap<string, PlanAssignment[]>;
  states: Map<string, GrantState>;
  finalized: readonly InvoiceDocument[];
}): void {
  const { month, catalog, usage, assignments, states } = input;
  const name = month.toString();
  const closedFor = new Set(
    input.finalized.filter((d) => d.period === name && !isThresholdInvoice(d)).map((d) => d.workspace_id),
  );
  const thresholds = thresholdsByMonth(input.finalized);
  for (const [ws, s] of states) {
    if (!s.grants.some((g) => inForceDuring(g, month))) continue;
    if (closedFor.has(ws)) continue;
    if (assignments.get(ws) === undefined && !usage.has(ws)) continue;
    const plan = planTermsFor(catalog, assignments.get(ws), month);
    const reserved = reserveForMonth(s, thresholds.get(`${ws}/${name}`) ?? [], month);
    const lines = periodLines(
      ws,
      name,
      plan,
      usage.get(ws) ?? new Map(),
      offerGrants(s, ws, month, plan, reserved),
    );
    for (const [id, amount] of grantConsumption(lines, name)) s.ledger.add(id, amount);
  }
}
