import { InvoiceStatus } from './invoice';
import type { InvoiceStatusType } from './invoices.repository';

/**
 * An invoice's status from its lifecycle facts, in the order they were recorded: paid once
 * any payment succeeded (a later failure notice does not undo a payment); payment_failed when
 * the latest payment event is a failure; pushed once Stripe holds it; finalized once its
 * month closed; draft before.
 */
export function invoiceStatus(
  finalized: boolean,
  lifecycle: ReadonlyArray<{ type: InvoiceStatusType }>,
): InvoiceStatus {
  if (lifecycle.some((r) => r.type === 'invoice.paid')) return 'paid';
  const lastPayment = lifecycle
    .filter((r) => r.type === 'invoice.paid' || r.type === 'invoice.payment_failed')
    .pop();
  if (lastPayment?.type === 'invoice.payment_failed') return 'payment_failed';
  if (lifecycle.some((r) => r.type === 'invoice.pushed')) return 'pushed';
  return finalized ? 'finalized' : 'draft';
}
