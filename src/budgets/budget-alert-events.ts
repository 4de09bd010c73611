/** Budget alerts on billing.events.v1 (subject: the workspace), each decided once. */
export const BUDGET_THRESHOLD_REACHED = 'budget.threshold_reached';
export const BUDGET_EXCEEDED = 'budget.exceeded';
export const BUDGET_FORECAST_EXCEEDED = 'budget.forecast_exceeded';
/** An enforced budget's spend reached its limit: the allowance says no from now on this month. */
export const BUDGET_CAP_REACHED = 'budget.cap_reached';

export const BUDGET_ALERT_TYPES = [
  BUDGET_THRESHOLD_REACHED,
  BUDGET_EXCEEDED,
  BUDGET_FORECAST_EXCEEDED,
  BUDGET_CAP_REACHED,
] as const;
export type BudgetAlertType = (typeof BUDGET_ALERT_TYPES)[number];

export type AlertKind = 'threshold' | 'exceeded' | 'forecast' | 'cap';
export const KIND_OF: Record<BudgetAlertType, AlertKind> = {
  [BUDGET_THRESHOLD_REACHED]: 'threshold',
  [BUDGET_EXCEEDED]: 'exceeded',
  [BUDGET_FORECAST_EXCEEDED]: 'forecast',
  [BUDGET_CAP_REACHED]: 'cap',
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
