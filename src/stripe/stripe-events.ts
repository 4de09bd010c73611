/**
 * The billing events the stripe module publishes (subject: the workspace): an invoice pushed
 * to Stripe, and what Stripe's webhooks report of its payment. Invoicing, the reconciliation
 * and webhooks read them.
 */

export interface InvoicePushedData {
  invoice_id: string;
  period: string;
  stripe_customer_id: string;
  stripe_invoice_id: string;
  /** our line id → Stripe invoice item id */
  stripe_invoice_item_ids: Record<string, string>;
  stripe_finalized: boolean;
  /**
   * Stripe's page where the customer sees and pays the invoice (Stripe sets it when the
   * invoice is finalized). Absent from events before issue 13; null when Stripe gave none
   * (localstripe and stripe-mock give none).
   */
  stripe_hosted_invoice_url?: string | null;
}

export interface InvoicePaymentData {
  invoice_id: string;
  stripe_event_id: string;
  stripe_invoice_id: string;
  reason?: string;
}

/** workspace.stripe_customer_linked (id `workspace.stripe_customer_linked:<workspace>`): the workspace's Stripe customer. */
export interface StripeCustomerLinkedData {
  stripe_customer_id: string;
}
