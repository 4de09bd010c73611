import { formatAmount, Money } from '../catalog/money';
import { Budget } from '../workspaces/budget';
import { alertId, BudgetAlertData, BudgetAlertType } from './budget-alert-events';

export interface AlertDecision {
  type: BudgetAlertType;
  id: string;
  data: BudgetAlertData;
}

/**
 * The alerts a workspace's spend calls for now and that were not decided before. Pure, and
 * compared exactly, to the cent, like GET /v1/spend/current: a threshold t is reached when
 * spend × 100 ≥ limit × t; the budget is exceeded when spend > limit; the forecast exceeds it
 * when the forecast > limit; an enforced budget's cap is reached when spend ≥ limit.
 */
export function alertsDue(input: {
  workspaceId: string;
  period: string;
  budget: Budget;
  spend: Money;
  forecast: Money;
  currency: string;
  decided: ReadonlySet<string>;
}): AlertDecision[] {
  const { workspaceId, period, budget, spend, forecast, currency, decided } = input;
  const limit = new Money(budget.monthly_limit);
  const limitText = formatAmount(limit);
  const data = (threshold: number | null): BudgetAlertData => ({
    period,
    monthly_limit: limitText,
    currency,
    threshold,
    spend: formatAmount(spend),
    forecast: formatAmount(forecast),
    enforced: budget.enforce,
  });
  const out: AlertDecision[] = [];
  const add = (type: BudgetAlertType, what: Parameters<typeof alertId>[3], threshold: number | null) => {
    const id = alertId(workspaceId, period, limitText, what);
    if (!decided.has(id)) out.push({ type, id, data: data(threshold) });
  };
  for (const t of budget.thresholds)
    if (limit.isZero() ? spend.gt(0) : spend.times(100).gte(limit.times(t)))
      add('budget.threshold_reached', t, t);
  if (spend.gt(limit)) add('budget.exceeded', 'exceeded', null);
  if (forecast.gt(limit)) add('budget.forecast_exceeded', 'forecast', null);
  if (budget.enforce && spend.gte(limit)) add('budget.cap_reached', 'cap', null);
  return out;
}
