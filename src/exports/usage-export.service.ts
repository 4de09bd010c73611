import { Injectable } from '@nestjs/common';
import { CatalogService } from '../catalog/catalog.service';
import { CURRENCY } from '../catalog/money';
import { quantityInUnits, RatedQuantity, RatedRow, rateRow } from '../catalog/rating';
import { SpanRow, UsageRollupsRepository } from '../metering/usage-rollups.repository';
import { UsageSpan } from '../common/usage-span';
import { ExportRecord } from './export-writer';
import { DAY_MS } from '../common/time';

export const USAGE_EXPORT_COLUMNS = [
  'workspace_id',
  'from',
  'to',
  'gpu_type',
  'app_id',
  'function_id',
  'region',
  'events',
  'gpu_seconds',
  'gpu_unit_price',
  'gpu_amount',
  'cpu_core_seconds',
  'cpu_unit_price',
  'cpu_amount',
  'memory_gib_seconds',
  'memory_unit_price',
  'memory_amount',
  'amount',
  'currency',
] as const;
export const USAGE_EXPORT_TEXT = new Set(['app_id', 'function_id', 'region']);

/**
 * Rated usage for finance: one record per workspace × hour × GPU type × app × function ×
 * region (an hour a price change cuts: one per piece), with quantities and amounts exact and
 * unrounded. Rounding belongs to invoice lines only (money.ts): summing an export's exact
 * amounts per workspace, month and charge, then rounding half-up to the cent, gives the
 * invoice's line — the test checks exactly that.
 */
@Injectable()
export class UsageExportService {
  constructor(
    private readonly catalogs: CatalogService,
    private readonly rollups: UsageRollupsRepository,
  ) {}

  /** Checks the span before anything is written, so a bad request is a 400, not a short file. */
  span(from: string, to: string): { fromMs: number; toMs: number } {
    const { fromMs, toMs } = UsageSpan.parse(from, to);
    return { fromMs, toMs };
  }

  /** Batches of records, a UTC day at a time (ClickHouse 18.16 sorts in memory). */
  async *records(fromMs: number, toMs: number, workspaceId?: string): AsyncGenerator<ExportRecord[]> {
    const catalog = await this.catalogs.load();
    const segments = catalog.segments(fromMs, toMs);
    const starts = segments.map((s) => s.from_ms);
    for (let dayFrom = fromMs; dayFrom < toMs;) {
      const dayTo = Math.min(toMs, Math.floor(dayFrom / DAY_MS) * DAY_MS + DAY_MS);
      const rows = await this.rollups.spans(dayFrom, dayTo, starts, workspaceId);
      yield rows.map((row) =>
        exportRecord(
          row,
          rateRow(catalog, segments[Number(row.segment)].prices, {
            gpu_type: row.gpu_type,
            gpu_ms: BigInt(row.gpu_ms),
            cpu_millicore_ms: BigInt(row.cpu_millicore_ms),
            memory_mib_ms: BigInt(row.memory_mib_ms),
          }),
        ),
      );
      dayFrom = dayTo;
    }
  }
}

/** A span's record: each charge's quantity (the one format), unit price and exact amount. */
function exportRecord(row: SpanRow, rated: RatedRow): ExportRecord {
  const charge = (q: RatedQuantity) => ({
    quantity: quantityInUnits(q.kind, q.quantity_ms),
    unit_price: q.unit_price,
    amount: q.amount.toFixed(),
  });
  const [gpu, cpu, memory] = [charge(rated.gpu), charge(rated.cpu), charge(rated.memory)];
  return {
    workspace_id: row.workspace_id,
    from: new Date(Number(row.from_ms)).toISOString(),
    to: new Date(Number(row.to_ms)).toISOString(),
    gpu_type: row.gpu_type,
    app_id: row.app_id,
    function_id: row.function_id,
    region: row.region,
    events: String(row.events),
    gpu_seconds: gpu.quantity,
    gpu_unit_price: gpu.unit_price,
    gpu_amount: gpu.amount,
    cpu_core_seconds: cpu.quantity,
    cpu_unit_price: cpu.unit_price,
    cpu_amount: cpu.amount,
    memory_gib_seconds: memory.quantity,
    memory_unit_price: memory.unit_price,
    memory_amount: memory.amount,
    amount: rated.amount.toFixed(),
    currency: CURRENCY,
  };
}
