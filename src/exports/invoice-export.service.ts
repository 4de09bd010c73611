import { Injectable } from '@nestjs/common';
import { InvoiceViewsService } from '../invoicing/invoice-views.service';
import { ExportRecord } from './export-writer';

export const INVOICE_EXPORT_COLUMNS = [
  'invoice_id',
  'workspace_id',
  'period',
  'status',
  'finalized_at',
  'currency',
  'invoice_total',
  'stripe_invoice_id',
  'line_id',
  'line_key',
  'kind',
  'description',
  'quantity',
  'unit',
  'unit_price',
  'amount',
  'adjusts_period',
] as const;
export const INVOICE_EXPORT_TEXT = new Set(['description']);

/**
 * Invoice lines for finance: one record per line of every invoice of a period, with the
 * invoice's status and Stripe id, exactly as GET /v1/invoices shows them (same service).
 * Amounts are the lines' rounded amounts; an invoice's lines add up to its total.
 */
@Injectable()
export class InvoiceExportService {
  constructor(private readonly views: InvoiceViewsService) {}

  async *records(period: string, workspaceId?: string): AsyncGenerator<ExportRecord[]> {
    for await (const page of this.views.pages({ period, workspaceId }))
      yield page.flatMap((inv) =>
        inv.lines.map((line) => ({
          invoice_id: inv.id,
          workspace_id: inv.workspace_id,
          period: inv.period,
          status: inv.status,
          finalized_at: inv.finalized_at ?? '',
          currency: inv.currency,
          invoice_total: inv.total,
          stripe_invoice_id: inv.stripe?.invoice_id ?? '',
          line_id: line.id,
          line_key: line.key,
          kind: line.kind,
          description: line.description,
          quantity: line.quantity,
          unit: line.unit,
          unit_price: line.unit_price ?? '',
          amount: line.amount,
          adjusts_period: line.adjusts?.period ?? '',
        })),
      );
  }
}
