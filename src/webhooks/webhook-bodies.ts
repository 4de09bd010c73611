import { BillingEvent } from '../platform/billing-events/billing-event';
import { INVOICE_DRAFTED, INVOICE_FINALIZED, InvoiceDocumentData } from '../invoicing/invoice-events';
import { INVOICE_PAID, INVOICE_PAYMENT_FAILED, InvoicePaymentData } from '../stripe/stripe-events';
import { ENDPOINT_DISABLED, EndpointDisabledData, WebhookBody } from './webhook-events';
import {
  BUDGET_EXCEEDED,
  BUDGET_FORECAST_EXCEEDED,
  BUDGET_THRESHOLD_REACHED,
  BudgetAlertData,
} from '../budgets/budget-alert-events';

/** What a receiver needs about an invoice to act without calling back. */
export interface InvoiceFacts {
  invoice_id: string;
  period: string;
  total: { amount: string; currency: string };
}

/**
 * The webhook a billing event becomes, or null. Pure: the body's `id` is deterministic (the
 * same billing fact is the same webhook event on every replica, restart and redelivery), so
 * with the endpoint it names the message (`messageId`). A payment event does not carry the
 * invoice's period and total: the dispatcher adds them (InvoiceFacts).
 */
export function webhookFor(
  event: BillingEvent,
): { body: WebhookBody; workspaceId: string | null; operatorOnly: boolean } | null {
  const base = (type: WebhookBody['type'], id: string, data: Record<string, unknown>) => ({
    body: { type, id, created_at: event.time, data: { workspace_id: event.subject, ...data } },
    workspaceId: event.subject,
    operatorOnly: false,
  });
  switch (event.type) {
    case INVOICE_DRAFTED:
    case INVOICE_FINALIZED: {
      const doc = (event.data as InvoiceDocumentData).invoice;
      const facts = {
        invoice_id: doc.id,
        period: doc.period,
        total: { amount: doc.total, currency: doc.currency },
        period_start: doc.period_start,
        period_end: doc.period_end,
      };
      // Every draft of an invoice maps to the one invoice.created event: only the first counts.
      return event.type === INVOICE_DRAFTED
        ? base('invoice.created', `invoice.created:${doc.id}`, facts)
        : base('invoice.finalized', `invoice.finalized:${doc.id}`, facts);
    }
    case INVOICE_PAID:
    case INVOICE_PAYMENT_FAILED: {
      const data = event.data as InvoicePaymentData;
      return base(event.type, `${event.type}:${data.invoice_id}:${data.stripe_event_id}`, {
        invoice_id: data.invoice_id,
        ...(event.type === INVOICE_PAYMENT_FAILED ? { reason: data.reason ?? 'payment failed' } : {}),
      });
    }
    case ENDPOINT_DISABLED: {
      const data = event.data as EndpointDisabledData;
      return {
        body: {
          type: 'endpoint.disabled',
          id: `endpoint.disabled:${event.id}`,
          created_at: event.time,
          data: {
            endpoint_id: data.id,
            workspace_id: event.subject === 'gpumeter' ? null : event.subject,
            reason: data.reason,
            detail: data.detail,
          },
        },
        workspaceId: event.subject === 'gpumeter' ? null : event.subject,
        operatorOnly: true,
      };
    }
    case BUDGET_THRESHOLD_REACHED:
    case BUDGET_EXCEEDED:
    case BUDGET_FORECAST_EXCEEDED: {
      const d = event.data as BudgetAlertData;
      const money = (amount: string) => ({ amount, currency: d.currency });
      return base(ALERT_WEBHOOK[event.type], event.id, {
        period: d.period,
        ...(d.threshold !== null ? { threshold: d.threshold } : {}),
        monthly_limit: money(d.monthly_limit),
        spend: money(d.spend),
        forecast: money(d.forecast),
        enforced: d.enforced,
      });
    }
    default:
      return null;
  }
}

/** Budget alerts as the webhook types receivers subscribe to (the cap itself is the allowance's, not a webhook). */
const ALERT_WEBHOOK = {
  [BUDGET_THRESHOLD_REACHED]: 'usage.threshold_reached',
  [BUDGET_EXCEEDED]: 'budget.exceeded',
  [BUDGET_FORECAST_EXCEEDED]: 'budget.forecast_exceeded',
} as const;
