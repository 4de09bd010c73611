import type {
  AgentTokenCreatedData,
  AgentTokenRevokedData,
  WorkspaceKeyCreatedData,
  WorkspaceKeyRevokedData,
} from '../../auth/credential-events';
import type { BudgetAlertData } from '../../budgets/budget-alert-events';
import type { CostChange } from '../../catalog/cost-catalog';
import type { PlanChange, PriceChange } from '../../catalog/price-catalog';
import type { CreditGrantCreatedData, CreditGrantVoidedData } from '../../invoicing/credit-grant-events';
import type { InvoiceDocumentData, InvoiceRunState, PeriodClosedData } from '../../invoicing/invoice-events';
import type {
  InvoicePaymentData,
  InvoicePushedData,
  StripeCustomerLinkedData,
} from '../../stripe/stripe-events';
import type {
  AttemptedData,
  EndpointCreatedData,
  EndpointDeletedData,
  EndpointDisabledData,
  EndpointEnabledData,
  EndpointSecretRotatedData,
  MessageCreatedData,
  RetryRequestedData,
} from '../../webhooks/webhook-events';
import type {
  WorkspaceBillingThresholdSetData,
  WorkspaceBudgetSetData,
  WorkspaceCreatedData,
  WorkspacePlanChangedData,
} from '../../workspaces/workspace-events';

/**
 * Every billing event type on billing.events.v1 and the payload it carries: the one list of
 * them. The payload shapes are declared by the module that publishes them (beside its
 * checks); this map names them all, so `newBillingEvent('invoice.paid', …)` takes an
 * InvoicePaymentData and a projection's `switch (event.type)` narrows `data` and is checked
 * for exhaustiveness by lint (@typescript-eslint/switch-exhaustiveness-check). The imports
 * are type-only: platform depends on no domain module at run time.
 *
 * Adding a type: its payload here, its name in KNOWN below, a projection's `handles` (or
 * none: the event log keeps it), and the contract's list of billing events.
 */
export interface BillingEventPayloads {
  // workspaces
  'workspace.created': WorkspaceCreatedData;
  'workspace.plan_changed': WorkspacePlanChangedData;
  'workspace.budget_set': WorkspaceBudgetSetData;
  /** The workspace's own billing threshold, or back to its plan's. */
  'workspace.billing_threshold_set': WorkspaceBillingThresholdSetData;
  // auth
  'workspace.key_created': WorkspaceKeyCreatedData;
  'workspace.key_revoked': WorkspaceKeyRevokedData;
  'agent_token.created': AgentTokenCreatedData;
  'agent_token.revoked': AgentTokenRevokedData;
  // catalog (subject gpumeter)
  'catalog.prices_changed': PriceChange;
  'catalog.plan_changed': PlanChange;
  /** What the GPUs cost a provider from an instant on (margin reports). */
  'catalog.cost_changed': CostChange;
  // invoicing
  'invoice.drafted': InvoiceDocumentData;
  'invoice.finalized': InvoiceDocumentData;
  /** Subject gpumeter: every invoice of the period is finalized. */
  'invoice.period_closed': PeriodClosedData;
  /** Subject gpumeter: an invoice run's whole state after a step. */
  'invoice_run.updated': InvoiceRunState;
  /** Credits granted to the workspace, consumed by its invoices (invoicing/credit-grants.ts). */
  'credit_grant.created': CreditGrantCreatedData;
  /** The grant's unused part voided. */
  'credit_grant.voided': CreditGrantVoidedData;
  // stripe
  'workspace.stripe_customer_linked': StripeCustomerLinkedData;
  'invoice.pushed': InvoicePushedData;
  'invoice.paid': InvoicePaymentData;
  'invoice.payment_failed': InvoicePaymentData;
  // budgets
  'budget.threshold_reached': BudgetAlertData;
  'budget.exceeded': BudgetAlertData;
  'budget.forecast_exceeded': BudgetAlertData;
  /** An enforced budget's spend reached its limit: the allowance says no from now on this month. */
  'budget.cap_reached': BudgetAlertData;
  // webhooks (subject the workspace, or gpumeter for operator endpoints)
  'webhook_endpoint.created': EndpointCreatedData;
  'webhook_endpoint.secret_rotated': EndpointSecretRotatedData;
  'webhook_endpoint.disabled': EndpointDisabledData;
  'webhook_endpoint.enabled': EndpointEnabledData;
  'webhook_endpoint.deleted': EndpointDeletedData;
  'webhook.message_created': MessageCreatedData;
  'webhook.attempted': AttemptedData;
  'webhook.retry_requested': RetryRequestedData;
}

export type BillingEventType = keyof BillingEventPayloads;

/** The same names at run time; a Record, so that tsc fails when one is missing or unknown. */
const KNOWN: Record<BillingEventType, true> = {
  'workspace.created': true,
  'workspace.plan_changed': true,
  'workspace.budget_set': true,
  'workspace.billing_threshold_set': true,
  'workspace.key_created': true,
  'workspace.key_revoked': true,
  'agent_token.created': true,
  'agent_token.revoked': true,
  'catalog.prices_changed': true,
  'catalog.plan_changed': true,
  'catalog.cost_changed': true,
  'invoice.drafted': true,
  'invoice.finalized': true,
  'invoice.period_closed': true,
  'invoice_run.updated': true,
  'credit_grant.created': true,
  'credit_grant.voided': true,
  'workspace.stripe_customer_linked': true,
  'invoice.pushed': true,
  'invoice.paid': true,
  'invoice.payment_failed': true,
  'budget.threshold_reached': true,
  'budget.exceeded': true,
  'budget.forecast_exceeded': true,
  'budget.cap_reached': true,
  'webhook_endpoint.created': true,
  'webhook_endpoint.secret_rotated': true,
  'webhook_endpoint.disabled': true,
  'webhook_endpoint.enabled': true,
  'webhook_endpoint.deleted': true,
  'webhook.message_created': true,
  'webhook.attempted': true,
  'webhook.retry_requested': true,
};

export const BILLING_EVENT_TYPES = Object.keys(KNOWN) as readonly BillingEventType[];

/** Whether this build knows a type (see hasKnownType). */
export function isKnownBillingEventType(type: string): type is BillingEventType {
  return Object.prototype.hasOwnProperty.call(KNOWN, type);
}
