import { Injectable } from '@nestjs/common';
import { quantityInUnits } from '../catalog/rating';
import { ApiError, ApiErrorCode } from '../common/api-error';
import { InvoiceViewsService } from '../invoicing/invoice-views.service';
import { LineTracing } from '../invoicing/line-tracing.service';
import { monthNumber } from '../metering/price-split-hours';
import { UsageRetirementsRepository } from '../metering/usage-retirements.repository';
import { BillingPeriod } from '../invoicing/billing-period';
import { ExportRecord } from './export-writer';

export const LINE_EVENT_COLUMNS = [
  'source',
  'id',
  'started_at',
  'ended_at',
  'piece_from',
  'piece_to',
  'ms',
  'quantity_ms',
  'quantity',
] as const;
export const LINE_EVENT_TEXT = new Set(['source', 'id']);

/**
 * The events behind one invoice line (line tracing): each event's milliseconds inside the
 * line's month — or inside each of its price pieces — and its quantity in the line's unit.
 * The quantities add up exactly to the line's quantity.
 */
@Injectable()
export class LineEventsExportService {
  constructor(
    private readonly views: InvoiceViewsService,
    private readonly tracing: LineTracing,
    private readonly retirements: UsageRetirementsRepository,
  ) {}

  /** The line, checked before anything is written (a bad request is a 4xx, not a short file). */
  async line(invoiceId: string, lineId: string, workspaceId?: string) {
    const invoice = await this.views.get(invoiceId, workspaceId);
    const line = invoice.lines.find((l) => l.id === lineId);
    if (!line) throw new ApiError(ApiErrorCode.NotFound, 'invoice line not found');
    if (line.events === undefined)
      throw new ApiError(
        ApiErrorCode.NotFound,
        'this line has no traced events: only the usage lines (and usage adjustments) of invoices finalized since line tracing have them',
      );
    const month = BillingPeriod.parse(line.adjusts?.period ?? invoice.period)!;
    if ((await this.retirements.retired([monthNumber(month.startMs)])).size > 0)
      throw new ApiError(
        ApiErrorCode.Gone,
        `the raw events of ${month.toString()} were dropped by raw event retention; the line's events are summed in line.events (${line.events.events} events, checksum ${line.events.checksum})`,
      );
    return { invoice, line };
  }

  async *records(
    found: Awaited<ReturnType<LineEventsExportService['line']>>,
  ): AsyncGenerator<ExportRecord[]> {
    const { invoice, line } = found;
    const key = line.adjusts?.key ?? line.key;
    const kind = key === 'cpu' ? 'cpu' : key === 'memory' ? 'memory' : 'gpu';
    const iso = (ms: string) => new Date(Number(ms)).toISOString();
    for await (const rows of this.tracing.lineEvents(invoice, line))
      yield rows.map((r) => ({
        source: r.source,
        id: r.id,
        started_at: iso(r.event_from_ms),
        ended_at: iso(r.event_to_ms),
        piece_from: iso(r.piece_from_ms),
        piece_to: iso(r.piece_to_ms),
        ms: r.ms,
        quantity_ms: r.quantity_ms,
        quantity: quantityInUnits(kind, BigInt(r.quantity_ms)),
      }));
  }
}
