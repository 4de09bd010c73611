import { Static, Type } from '@sinclair/typebox';
import { MONEY_PATTERN } from '../catalog/patterns';
import { PeriodText } from '../invoicing/billing-period';
import { defineBillingEvents, PayloadsOf } from '../platform/billing-events/billing-event-types';
import { Matching, Nullable, Text } from '../platform/billing-events/payload-schema';

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

const Decimal = Matching(/^-?\d{1,15}(\.\d{1,15})?$/);

export const BudgetAlertData = Type.Object({
  period: PeriodText(),
  /** decimal, the limit in force when decided */
  monthly_limit: Matching(MONEY_PATTERN),
  currency: Text(8),
  /** percent, for threshold alerts */
  threshold: Nullable(Type.Integer({ minimum: 1, maximum: 1000 })),
  /** the month's spend so far when decided (the upcoming invoice's total) */
  spend: Decimal,
  /** the linear forecast of the month's total when decided */
  forecast: Decimal,
  enforced: Type.Boolean(),
});
export type BudgetAlertData = Static<typeof BudgetAlertData>;

export const BUDGET_ALERT_EVENTS = defineBillingEvents({
  'budget.threshold_reached': BudgetAlertData,
  'budget.exceeded': BudgetAlertData,
  'budget.forecast_exceeded': BudgetAlertData,
  'budget.cap_reached': BudgetAlertData,
});

declare module '../platform/billing-events/billing-event-types' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- declaration merging
  interface BillingEventPayloads extends PayloadsOf<typeof BUDGET_ALERT_EVENTS> {}
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
