/**
 * What the pusher needs of an invoice to put it into Stripe: its id, workspace, period and
 * currency, and each line's id, description and rounded amount (decimal string). Invoicing's
 * document has all of it; the stripe module does not depend on that type.
 */
export interface StripeInvoiceInput {
  id: string;
  workspace_id: string;
  period: string;
  period_start: string;
  period_end: string;
  currency: string;
  lines: ReadonlyArray<{ id: string; description: string; amount: string }>;
}
