import Decimal from 'decimal.js';
import { formatAmount, Money } from '../catalog/money';

/** A workspace's monthly budget: a limit on the month's invoice total, and alert thresholds (percent). */
export interface Budget {
  monthly_limit: string; // major units, two decimals
  thresholds: number[]; // ascending percentages of the limit, e.g. [50, 80, 100]
  enforce: boolean; // a hard cap: no more spend allowed once it reaches the limit
}

export const DEFAULT_THRESHOLDS = [50, 80, 100];

export interface BudgetStatus {
  monthly_limit: { amount: string; currency: string };
  enforce: boolean;
  thresholds: number[];
  spent_percent: string; // of the limit, rounded down to two decimals: never shows a threshold early
  thresholds_reached: number[];
  exceeded: boolean;
  forecast_exceeds: boolean;
}

/**
 * Where a month's spend stands against its budget. Compared exactly (spend × 100 ≥ limit ×
 * threshold), so a threshold counts as reached exactly when the money says so; the percent
 * shown is only a display, rounded down. A zero limit: any spend exceeds it, every threshold
 * is reached at once.
 */
export function budgetStatus(
  budget: Budget,
  spendSoFar: Money,
  forecastTotal: Money,
  currency: string,
): BudgetStatus {
  const limit = new Money(budget.monthly_limit);
  const percent = limit.isZero()
    ? new Money(spendSoFar.gt(0) ? 100 : 0)
    : spendSoFar.times(100).div(limit).toDecimalPlaces(2, Decimal.ROUND_DOWN);
  return {
    monthly_limit: { amount: formatAmount(limit), currency },
    enforce: budget.enforce,
    thresholds: budget.thresholds,
    spent_percent: percent.toFixed(2),
    thresholds_reached: limit.isZero()
      ? spendSoFar.gt(0)
        ? budget.thresholds
        : []
      : budget.thresholds.filter((t) => spendSoFar.times(100).gte(limit.times(t))),
    exceeded: spendSoFar.gt(limit),
    forecast_exceeds: forecastTotal.gt(limit),
  };
}
