import { formatAmount, Money } from '../catalog/money';
import { PlanTerms } from '../catalog/price-catalog';
import { BillingPeriod } from './billing-period';

export const GRANT_KINDS = ['promotional', 'prepaid', 'goodwill'] as const;
/** `plan`: a plan's monthly credits, a grant in force for its month only. */
export type GrantKind = (typeof GRANT_KINDS)[number] | 'plan';

/** A credit grant as projected from credit_grant.* events (or a plan's monthly credits). */
export interface CreditGrant {
  grant_id: string;
  workspace_id: string;
  kind: GrantKind;
  amount: string; // USD, whole cents
  priority: number; // 0 is consumed first, 100 last
  effective_at_ms: number;
  expires_at_ms: number | null;
  voided_at_ms: number | null;
  created_at_ms: number;
  reason: string;
}

/** The grant a plan's monthly credits make for one month: key `credits` on invoices. */
export function planGrant(workspaceId: string, period: BillingPeriod, plan: PlanTerms): CreditGrant {
  return {
    grant_id: `plan:${period.toString()}`,
    workspace_id: workspaceId,
    kind: 'plan',
    amount: formatAmount(new Money(plan.monthly_credits)),
    priority: 0,
    effective_at_ms: period.startMs,
    expires_at_ms: period.endMs,
    voided_at_ms: null,
    created_at_ms: period.startMs,
    reason: `${plan.plan} plan: free credits (${formatAmount(new Money(plan.monthly_credits))} a month)`,
  };
}

/** When a grant stops being in force: its expiry or its voiding, whichever is first. */
export function grantEndMs(g: CreditGrant): number {
  return Math.min(g.expires_at_ms ?? Infinity, g.voided_at_ms ?? Infinity);
}

/** Whether usage of `period` may consume the grant: it is in force for some of the month. */
export function inForceDuring(g: CreditGrant, period: BillingPeriod): boolean {
  return g.effective_at_ms < period.endMs && grantEndMs(g) > period.startMs;
}

/**
 * The consumption order: lowest priority number first; then the one that expires first (a
 * grant without expiry after every one with); then the oldest (effective, then created);
 * then the id, so that the order is total and every computation agrees.
 */
export function compareGrants(a: CreditGrant, b: CreditGrant): number {
  return (
    a.priority - b.priority ||
    (a.expires_at_ms ?? Infinity) - (b.expires_at_ms ?? Infinity) ||
    a.effective_at_ms - b.effective_at_ms ||
    a.created_at_ms - b.created_at_ms ||
    (a.grant_id < b.grant_id ? -1 : a.grant_id > b.grant_id ? 1 : 0)
  );
}

/**
 * What is left of a grant for usage not billed yet: its amount less everything invoices have
 * taken of it; nothing once it is voided (voiding voids the unused part).
 */
export function unusedBalance(g: CreditGrant, consumed: Money): Money {
  if (g.voided_at_ms !== null) return new Money(0);
  return Money.max(new Money(g.amount).minus(consumed), 0);
}

/** A grant offered to one allocation, with how much of it this allocation may take. */
export interface OfferedGrant {
  grant: CreditGrant;
  available: Money;
}

export interface GrantApplication {
  grant: CreditGrant;
  applied: Money;
}

/**
 * Covers `amount` (whole cents, ≥ 0) with the grants in consumption order, each up to what is
 * available of it; returns every grant offered, with what it covers (maybe 0). Covers
 * min(amount, Σ available): never more than the amount, never more than a grant has.
 */
export function allocate(amount: Money, offered: readonly OfferedGrant[]): GrantApplication[] {
  let left = Money.max(amount, 0);
  return [...offered]
    .sort((a, b) => compareGrants(a.grant, b.grant))
    .map(({ grant, available }) => {
      const applied = Money.min(left, Money.max(available, 0));
      left = left.minus(applied);
      return { grant, applied };
    });
}

/**
 * How much each grant has given, per grant id: finalized invoices' uses (projected from
 * invoice.finalized), plus invoices computed but not finalized yet earlier in a chain.
 */
export class GrantLedger {
  private readonly consumed = new Map<string, Money>();

  constructor(rows: Iterable<{ grant_id: string; amount: string }> = []) {
    for (const r of rows) this.add(r.grant_id, new Money(r.amount));
  }

  add(grantId: string, amount: Money): void {
    this.consumed.set(grantId, (this.consumed.get(grantId) ?? new Money(0)).plus(amount));
  }

  consumedOf(grantId: string): Money {
    return this.consumed.get(grantId) ?? new Money(0);
  }

  copy(): GrantLedger {
    const c = new GrantLedger();
    for (const [id, m] of this.consumed) c.add(id, m);
    return c;
  }
}
