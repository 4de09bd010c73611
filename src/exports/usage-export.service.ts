import { Injectable } from '@nestjs/common';
import { CatalogService } from '../catalog/catalog.service';
import { CURRENCY } from '../catalog/money';
import { priceQuantity, quantityInUnits } from '../catalog/rating';
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
      yield rows.map((row) => {
        const prices = segments[Number(row.segment)].prices;
        return rate(row, catalog.gpuPrice(prices, row.gpu_type).toString(), prices);
      });
      dayFrom = dayTo;
    }
  }
}

function rate(
  row: SpanRow,
  gpuPrice: string,
  prices: { cpu_per_core_second: string; memory_per_gib_second: string },
): ExportRecord {
  const gpu = priceQuantity('gpu', BigInt(row.gpu_ms), gpuPrice);
  const cpu = priceQuantity('cpu', BigInt(row.cpu_millicore_ms), prices.cpu_per_core_second);
  const memory = priceQuantity('memory', BigInt(row.memory_mib_ms), prices.memory_per_gib_second);
  return {
    workspace_id: row.workspace_id,
    from: new Date(Number(row.from_ms)).toISOString(),
    to: new Date(Number(row.to_ms)).toISOString(),
    gpu_type: row.gpu_type,
    app_id: row.app_id,
    function_id: row.function_id,
    region: row.region,
    events: String(row.events),
    gpu_seconds: quantityInUnits('gpu', BigInt(row.gpu_ms)),
    gpu_unit_price: gpuPrice,
    gpu_amount: gpu.toFixed(),
    cpu_core_seconds: quantityInUnits('cpu', BigInt(row.cpu_millicore_ms)),
    cpu_unit_price: prices.cpu_per_core_second,
    cpu_amount: cpu.toFixed(),
    memory_gib_seconds: quantityInUnits('memory', BigInt(row.memory_mib_ms)),
    memory_unit_price: prices.memory_per_gib_second,
    memory_amount: memory.toFixed(),
    amount: gpu.plus(cpu).plus(memory).toFixed(),
    currency: CURRENCY,
  };
}
