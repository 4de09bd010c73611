import { Static, Type } from '@sinclair/typebox';
import { defineBillingEvents, PayloadsOf } from '../platform/billing-events/billing-event-types';
import { Matching, Nullable, Text } from '../platform/billing-events/payload-schema';

/**
 * The billing events the stripe module publishes (subject: the workspace): an invoice pushed
 * to Stripe, and what Stripe's webhooks report of its payment. Invoicing, the reconciliation
 * and webhooks read them.
 */

export const InvoicePushedData = Type.Object({
  invoice_id: Text(),
  period: Text(),
  stripe_customer_id: Text(),
  stripe_invoice_id: Text(),
  /** our line id → Stripe invoice item id */
  stripe_invoice_item_ids: Type.Record(Type.String(), Type.String()),
  stripe_finalized: Type.Boolean(),
  /**
   * Stripe's page where the customer sees and pays the invoice (Stripe sets it when the
   * invoice is finalized). Absent from events before issue 13; null when Stripe gave none
   * (localstripe and stripe-mock give none).
   */
  stripe_hosted_invoice_url: Type.Optional(Nullable(Matching(/^https:\/\/\S{1,2000}$/))),
});
export type InvoicePushedData = Static<typeof InvoicePushedData>;

export const InvoicePaymentData = Type.Object({
  invoice_id: Text(),
  stripe_event_id: Text(),
  stripe_invoice_id: Text(),
  reason: Type.Optional(Type.String()),
});
export type InvoicePaymentData = Static<typeof InvoicePaymentData>;

/** workspace.stripe_customer_linked (id `workspace.stripe_customer_linked:<workspace>`): the workspace's Stripe customer. */
export const StripeCustomerLinkedData = Type.Object({ stripe_customer_id: Text(255) });
export type StripeCustomerLinkedData = Static<typeof StripeCustomerLinkedData>;

export const STRIPE_EVENTS = defineBillingEvents({
  'workspace.stripe_customer_linked': StripeCustomerLinkedData,
  'invoice.pushed': InvoicePushedData,
  'invoice.paid': InvoicePaymentData,
  'invoice.payment_failed': InvoicePaymentData,
});

declare module '../platform/billing-events/billing-event-types' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- declaration merging
  interface BillingEventPayloads extends PayloadsOf<typeof STRIPE_EVENTS> {}
}
