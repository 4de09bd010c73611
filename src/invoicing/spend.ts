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
 * Pure: spend so far is the upcoming invoice's total; the forecast grows usage at the rate
 * seen so far (usage × period length ÷ time elapsed), offset by the credits available to the
 * month (its grants' balances, the plan's monthly credits among them), plus the plan's fee. GET /v1/spend/current and the budget alerts both use it, so they agree.
 */
export function spendFigures(up: InvoiceDocument, now: Date): SpendFigures {
  const period = BillingPeriod.containing(now.getTime());
  const elapsed = Math.max(1, now.getTime() - period.startMs);
  const length = period.endMs - period.startMs;
  const usage = new Money(up.usage_subtotal);
  const forecastUsage = roundToCents(usage.times(length).div(elapsed));
  // Credits the month may still draw on: every grant in force's balance before it (the plan's
  // credits among them), or, on an invoice from before grants, the plan's monthly credits.
  const creditsAvailable = up.credit_grants
    ? up.credit_grants.reduce((a, g) => a.plus(g.balance_before), new Money(0))
    : new Money(up.plan.monthly_credits);
  const forecastCredits = Money.min(creditsAvailable, forecastUsage);
  const fee = new Money(up.plan.base_fee);
  const adjustments = up.lines
    .filter((l) => l.kind === 'adjustment')
    .reduce((a, l) => a.plus(l.amount), new Money(0));
  return {
    usage,
    planFee: up.lines.some((l) => l.kind === 'plan_fee') ? fee : new Money(0),
    adjustments,
    spendSoFar: new Money(up.total),
    forecastUsage,
    forecastCredits,
    forecastTotal: forecastUsage
      .minus(forecastCredits)
      .plus(fee.gt(0) ? fee : 0)
      .plus(adjustments),
  };
}
