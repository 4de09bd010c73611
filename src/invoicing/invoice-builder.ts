import { CURRENCY, formatAmount, Money } from '../catalog/money';
import { PlanTerms } from '../catalog/price-catalog';
import { RatedCharge } from '../catalog/rating';
import { BillingPeriod } from './billing-period';
import { CreditGrant, OfferedGrant } from './credit-grants';
import { CreditGrantUse, InvoiceDocument, invoiceId, InvoiceLine } from './invoice';

import { compareKeys, grantConsumption, periodLines, sum, USAGE_KINDS } from './invoice-lines';
import { linesNetOf } from './billed-lines';

/**
 * What every invoice document opens with, in this order (content hashes depend on it): who,
 * which month, its plan, its lines and their totals — sums of the rounded lines.
 */
export function documentBody(
  id: string,
  workspaceId: string,
  period: BillingPeriod,
  plan: PlanTerms,
  lines: InvoiceLine[],
): Pick<
  InvoiceDocument,
  | 'id'
  | 'workspace_id'
  | 'period'
  | 'period_start'
  | 'period_end'
  | 'currency'
  | 'plan'
  | 'lines'
  | 'usage_subtotal'
  | 'credits_applied'
  | 'total'
> {
  return {
    id,
    workspace_id: workspaceId,
    period: period.toString(),
    period_start: new Date(period.startMs).toISOString(),
    period_end: new Date(period.endMs).toISOString(),
    currency: CURRENCY,
    plan,
    lines,
    usage_subtotal: formatAmount(sum(lines, (l) => USAGE_KINDS.has(l.kind))),
    credits_applied: formatAmount(sum(lines, (l) => l.kind === 'credits').neg()),
    total: formatAmount(sum(lines)),
  };
}

/**
 * Each grant in force for the invoice's month (and each one an adjustment line drew on): what
 * it had before the invoice, what the invoice took of it, what is left, and what of that
 * expired with the month (a grant whose expiry falls in it; a plan's credits always).
 */
export function grantUses(
  period: BillingPeriod,
  lines: readonly InvoiceLine[],
  before: ReadonlyArray<{ grant: CreditGrant; balance: Money }>,
): CreditGrantUse[] {
  const taken = grantConsumption(lines, period.toString());
  return before
    .filter(
      ({ grant }) => grant.kind !== 'plan' || taken.has(grant.grant_id) || new Money(grant.amount).gt(0),
    )
    .map(({ grant, balance }) => {
      const applied = taken.get(grant.grant_id) ?? new Money(0);
      const after = Money.max(balance.minus(applied), 0);
      const expires = grant.expires_at_ms !== null && grant.expires_at_ms <= period.endMs;
      return {
        grant_id: grant.grant_id,
        kind: grant.kind,
        priority: grant.priority,
        expires_at: grant.expires_at_ms === null ? null : new Date(grant.expires_at_ms).toISOString(),
        balance_before: formatAmount(balance),
        applied: formatAmount(applied),
        balance_after: formatAmount(after),
        expired: formatAmount(expires && grant.voided_at_ms === null ? after : new Money(0)),
      };
    });
}

/** The invoice for (workspace, period): its own lines, then adjustments; totals are sums of rounded lines. */
export function buildInvoice(input: {
  workspaceId: string;
  period: BillingPeriod;
  plan: PlanTerms;
  charges: ReadonlyMap<string, RatedCharge>;
  adjustments: readonly InvoiceLine[];
  /** Grants in force for the month, each with what it has left after the adjustments. */
  grants?: readonly OfferedGrant[];
  /** The same grants' balances before this invoice (adjustments included), for `credit_grants`. */
  grantBalances?: ReadonlyArray<{ grant: CreditGrant; balance: Money }>;
  /** The month's finalized threshold invoices: this invoice bills the rest of the month. */
  thresholdInvoices?: readonly InvoiceDocument[];
  computedAt: Date;
}): InvoiceDocument {
  const period = input.period.toString();
  const id = invoiceId(input.workspaceId, period);
  const whole = periodLines(input.workspaceId, period, input.plan, input.charges, input.grants ?? []).sort(
    (a, b) => compareKeys(a.key, b.key),
  );
  const earlier = input.thresholdInvoices ?? [];
  const own =
    earlier.length === 0
      ? whole
      : linesNetOf(
          id,
          whole,
          earlier.flatMap((d) => d.lines),
        );
  const lines = [...own, ...input.adjustments];
  return {
    ...documentBody(id, input.workspaceId, input.period, input.plan, lines),
    credit_grants: grantUses(input.period, lines, input.grantBalances ?? []),
    ...(earlier.length > 0 ? { threshold_invoices: earlier.map((d) => d.id) } : {}),
    computed_at: input.computedAt.toISOString(),
  };
}
