import { Money, roundToCents } from '../catalog/money';
import { BillingPeriod } from './billing-period';
import { InvoiceDocument } from './invoice';

/** Where the open period's spend stands, from its upcoming invoice, and a linear forecast to its end. */
export interface SpendFigures {
  usage: Money;
  planFee: Money;
  adjustments: Money;
  spendSoFar: Money;
  forecastUsage: Money;
  forecastCredits: Money;
  forecastTotal: Money;
}

/**
 * Pure: spend so far is the month's invoices' totals — the upcoming (month-end) invoice and the
 * month's threshold invoices, which billed part of it already; the forecast grows usage at the
 * rate seen so far (usage × period length ÷ time elapsed), offset by the credits available to
 * the month (its grants' balances, the plan's monthly credits among them, and what threshold
 * invoices took of them), plus the plan's fee. GET /v1/spend/current and the budget alerts
 * both use it, so they agree.
 */
export function spendFigures(
  up: InvoiceDocument | undefined,
  now: Date,
  thresholdInvoices: readonly InvoiceDocument[] = [],
): SpendFigures {
  const period = BillingPeriod.containing(now.getTime());
  const elapsed = Math.max(1, now.getTime() - period.startMs);
  const length = period.endMs - period.startMs;
  const docs = [...thresholdInvoices, ...(up ? [up] : [])];
  const total = (f: (d: InvoiceDocument) => string) => docs.reduce((a, d) => a.plus(f(d)), new Money(0));
  const usage = total((d) => d.usage_subtotal);
  const forecastUsage = roundToCents(usage.times(length).div(elapsed));
  // Credits the month may still draw on: every grant in force's balance before the latest of
  // its invoices (the plan's credits among them), or, on an invoice from before grants, the
  // plan's monthly credits; and what its threshold invoices took already.
  const latest = docs[docs.length - 1];
  const left =
    latest === undefined
      ? new Money(0)
      : latest.credit_grants
        ? latest.credit_grants.reduce(
            (a, g) => a.plus(latest === up ? g.balance_before : g.balance_after),
            new Money(0),
          )
        : new Money(latest.plan.monthly_credits);
  const creditsAvailable = left.plus(total((d) => (d === up ? '0' : d.credits_applied)));
  const forecastCredits = Money.min(creditsAvailable, forecastUsage);
  const fee = new Money(latest?.plan.base_fee ?? 0);
  const adjustments = (up?.lines ?? [])
    .filter((l) => l.kind === 'adjustment')
    .reduce((a, l) => a.plus(l.amount), new Money(0));
  return {
    usage,
    planFee: up?.lines.some((l) => l.kind === 'plan_fee') ? fee : new Money(0),
    adjustments,
    spendSoFar: total((d) => d.total),
    forecastUsage,
    forecastCredits,
    forecastTotal: forecastUsage
      .minus(forecastCredits)
      .plus(fee.gt(0) ? fee : 0)
      .plus(adjustments),
  };
}
