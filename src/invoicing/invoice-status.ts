import { InvoiceStatus } from './invoice';
import { INVOICE_PAID, INVOICE_PAYMENT_FAILED, INVOICE_PUSHED } from '../stripe/stripe-events';

/**
 * An invoice's status from its lifecycle facts, in the order they were recorded: paid once
 * any payment succeeded (a later failure notice does not undo a payment); payment_failed when
 * the latest payment event is a failure; pushed once Stripe holds it; finalized once its
 * month closed; draft before.
 */
export function invoiceStatus(finalized: boolean, lifecycle: ReadonlyArray<{ type: string }>): InvoiceStatus {
  if (lifecycle.some((r) => r.type === INVOICE_PAID)) return 'paid';
  const lastPayment = lifecycle
    .filter((r) => r.type === INVOICE_PAID || r.type === INVOICE_PAYMENT_FAILED)
    .pop();
  if (lastPayment?.type === INVOICE_PAYMENT_FAILED) return 'payment_failed';
  if (lifecycle.some((r) => r.type === INVOICE_PUSHED)) return 'pushed';
  return finalized ? 'finalized' : 'draft';
}
