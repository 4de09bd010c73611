import { BillingEvent, ofType } from '../platform/billing-events/billing-event';
import { WebhookBody } from './webhook-events';

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
  if (!becomesWebhook(event)) return null;
  switch (event.type) {
    case 'invoice.drafted':
    case 'invoice.finalized': {
      const doc = event.data.invoice;
      const facts = {
        invoice_id: doc.id,
        period: doc.period,
        total: { amount: doc.total, currency: doc.currency },
        period_start: doc.period_start,
        period_end: doc.period_end,
      };
      // Every draft of an invoice maps to the one invoice.created event: only the first counts.
      return event.type === 'invoice.drafted'
        ? base('invoice.created', `invoice.created:${doc.id}`, facts)
        : base('invoice.finalized', `invoice.finalized:${doc.id}`, facts);
    }
    case 'invoice.paid':
    case 'invoice.payment_failed': {
      const data = event.data;
      return base(event.type, `${event.type}:${data.invoice_id}:${data.stripe_event_id}`, {
        invoice_id: data.invoice_id,
        ...(event.type === 'invoice.payment_failed' ? { reason: data.reason ?? 'payment failed' } : {}),
      });
    }
    case 'webhook_endpoint.disabled': {
      const data = event.data;
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
    case 'budget.threshold_reached':
    case 'budget.exceeded':
    case 'budget.forecast_exceeded': {
      const d = event.data;
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
  }
}

/** The billing events that become webhooks (budget.cap_reached is the allowance's, not a webhook). */
const becomesWebhook = ofType(
  'invoice.drafted',
  'invoice.finalized',
  'invoice.paid',
  'invoice.payment_failed',
  'webhook_endpoint.disabled',
  'budget.threshold_reached',
  'budget.exceeded',
  'budget.forecast_exceeded',
);

/** Budget alerts as the webhook types receivers subscribe to (the cap itself is the allowance's, not a webhook). */
const ALERT_WEBHOOK = {
  'budget.threshold_reached': 'usage.threshold_reached',
  'budget.exceeded': 'budget.exceeded',
  'budget.forecast_exceeded': 'budget.forecast_exceeded',
} as const;
