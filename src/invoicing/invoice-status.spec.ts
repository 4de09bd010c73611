import { invoiceStatus } from './invoice-status';
import type { InvoiceStatusType } from './invoices.repository';

const facts = (...types: InvoiceStatusType[]) => types.map((type) => ({ type }));

describe('invoice status', () => {
  it.each([
    [false, [], 'draft'],
    [true, [], 'finalized'],
    [true, ['invoice.pushed'], 'pushed'],
    [true, ['invoice.pushed', 'invoice.payment_failed'], 'payment_failed'],
    [true, ['invoice.pushed', 'invoice.payment_failed', 'invoice.paid'], 'paid'],
    [true, ['invoice.pushed', 'invoice.paid', 'invoice.payment_failed'], 'paid'], // a payment is never undone
    [true, ['invoice.pushed', 'invoice.payment_failed', 'invoice.payment_failed'], 'payment_failed'],
    [false, ['invoice.pushed'], 'pushed'],
  ] as Array<[boolean, InvoiceStatusType[], string]>)(
    'finalized %p with %p → %s',
    (finalized, types, status) => {
      expect(invoiceStatus(finalized, facts(...types))).toBe(status);
    },
  );
});
