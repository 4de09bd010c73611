/**
 * Budget alerts on billing.events.v1 (subject: the workspace), each decided once.
 * budget.cap_reached: an enforced budget's spend reached its limit, so the allowance says no
 * from now on this month.
 */
export const BUDGET_ALERT_TYPES = [
  'budget.threshold_reached',
  'budget.exceeded',
  'budget.forecast_exceeded',
  'budget.cap_reached',
] as const;
export type BudgetAlertType = (typeof BUDGET_ALERT_TYPES)[number];

export type AlertKind = 'threshold' | 'exceeded' | 'forecast' | 'cap';
export const KIND_OF: Record<BudgetAlertType, AlertKind> = {
  'budget.threshold_reached': 'threshold',
  'budget.exceeded': 'exceeded',
  'budget.forecast_exceeded': 'forecast',
  'budget.cap_reached': 'cap',
};

export interface BudgetAlertData {
  period: string; // YYYY-MM
  monthly_limit: string; // decimal, the limit in force when decided
  currency: string;
  threshold: number | null; // percent, for threshold alerts
  spend: string; // the month's spend so far when decided (the upcoming invoice's total)
  forecast: string; // the linear forecast of the month's total when decided
  enforced: boolean;
}

/**
 * An alert's id: once per workspace, month, limit and threshold (or kind). Re-sent usage,
 * restarts, several replicas and replays all come to the same id, so it is decided once.
 */
export function alertId(
  workspaceId: string,
  period: string,
  limit: string,
  what: number | AlertKind,
): string {
  return `alert:${workspaceId}:${period}:${limit}:${what}`;
}
