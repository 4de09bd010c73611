import { Money } from '../catalog/money';
import { PlanTerms, PriceCatalog } from '../catalog/price-catalog';
import { billingThresholdInForce } from '../workspaces/billing-threshold';
import { PlanAssignment, planForPeriod } from '../workspaces/workspaces.repository';
import { RatedCharge } from '../catalog/rating';
import { BillingPeriod } from './billing-period';
import { CreditGrant, OfferedGrant } from './credit-grants';
import { InvoiceDocument, invoiceId } from './invoice';
import { linesNetOf } from './billed-lines';
import { documentBody, grantUses } from './invoice-builder';
import { compareKeys, periodLines } from './invoice-lines';

/** `inv_<YYYY-MM>_<workspace>_t<n>`: the n-th threshold invoice of the month (n from 1). */
export function thresholdInvoiceId(workspaceId: string, period: string, sequence: number): string {
  return `${invoiceId(workspaceId, period)}_t${sequence}`;
}

export function isThresholdInvoice(doc: Pick<InvoiceDocument, 'threshold'>): boolean {
  return doc.threshold !== undefined;
}

/**
 * The next threshold invoice of a workspace's open month (pure): the month's usage so far —
 * rated, with the credits its grants give it — less everything the month's earlier threshold
 * invoices billed, line by line. The plan's fee is left to the month-end invoice. Whether it
 * is due (its total reached the threshold) is the caller's decision.
 */
export function buildThresholdInvoice(input: {
  workspaceId: string;
  period: BillingPeriod;
  plan: PlanTerms;
  /** The month's usage accepted up to `usageAsOfMs`. */
  charges: ReadonlyMap<string, RatedCharge>;
  grants: readonly OfferedGrant[];
  grantBalances: ReadonlyArray<{ grant: CreditGrant; balance: Money }>;
  earlier: readonly InvoiceDocument[];
  billingThreshold: string;
  usageAsOfMs: number;
  computedAt: Date;
}): InvoiceDocument {
  const period = input.period.toString();
  const sequence = input.earlier.length + 1;
  const id = thresholdInvoiceId(input.workspaceId, period, sequence);
  const soFar = periodLines(
    input.workspaceId,
    period,
    { ...input.plan, base_fee: '0' },
    input.charges,
    input.grants,
  ).sort((a, b) => compareKeys(a.key, b.key));
  const lines = linesNetOf(
    id,
    soFar,
    input.earlier.flatMap((d) => d.lines),
  );
  return {
    ...documentBody(id, input.workspaceId, input.period, input.plan, lines),
    // Nothing expires mid-month: what is left of a grant is the month-end invoice's to record.
    credit_grants: grantUses(input.period, lines, input.grantBalances).map((g) => ({
      ...g,
      expired: '0.00',
    })),
    threshold: {
      sequence,
      billing_threshold: input.billingThreshold,
      usage_as_of: new Date(input.usageAsOfMs).toISOString(),
    },
    computed_at: input.computedAt.toISOString(),
  };
}

/** Whether a threshold invoice is due: its total (the month's unbilled spend) reached the threshold. */
export function thresholdReached(doc: InvoiceDocument, billingThreshold: string): boolean {
  return new Money(doc.total).gte(billingThreshold);
}

/**
 * The workspaces held to a billing threshold in `period` (their own, or their plan's), with
 * it: of those with a plan assignment, or only of `workspaceIds`.
 */
export function heldToThresholds(input: {
  own: ReadonlyMap<string, string | null>;
  assignments: ReadonlyMap<string, PlanAssignment[]>;
  catalog: PriceCatalog;
  period: BillingPeriod;
  workspaceIds?: readonly string[];
}): Map<string, string> {
  const held = new Map<string, string>();
  for (const [ws, assigned] of input.assignments) {
    if (input.workspaceIds !== undefined && !input.workspaceIds.includes(ws)) continue;
    const plan = planForPeriod(assigned, input.period.startMs);
    const t = billingThresholdInForce(
      input.own,
      ws,
      input.catalog,
      plan,
      input.period.startMs,
    ).billing_threshold;
    if (t !== null) held.set(ws, t);
  }
  return held;
}
