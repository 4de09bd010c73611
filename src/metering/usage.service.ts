import { Clock } from '../platform/clock';
import { Injectable } from '@nestjs/common';
import { CURRENCY, formatCents, scaledToCents } from '../catalog/money';
import { CatalogService } from '../catalog/catalog.service';
import { quantityInUnits, rateRowScaled } from '../catalog/rating';
import { DAY_MS, HOUR_MS } from '../common/time';
import { UsageSpan } from '../common/usage-span';
import { ApiError } from '../common/api-error';
import { GroupKey, UsageRollupsRepository, UsageWindow } from './usage-rollups.repository';
import { BREAKDOWN_KEYS, BreakdownBy, buildBreakdown, UsageRowView } from './usage-breakdown';

export type { UsageRowView } from './usage-breakdown';

export const DEFAULT_BREAKDOWN_LIMIT = 20;

export const MAX_HOURLY_RANGE_MS = 31 * DAY_MS;

function monthStart(yyyymm: number): number {
  return Date.UTC(Math.floor(yyyymm / 100), (yyyymm % 100) - 1, 1);
}

/** GET /v1/usage: hourly rollups summed per window and group, priced with the catalog. */
@Injectable()
export class UsageService {
  constructor(
    private readonly rollups: UsageRollupsRepository,
    private readonly catalogs: CatalogService,
    private readonly clock: Clock,
  ) {}

  async usage(
    workspaceId: string,
    q: { from?: string; to?: string; window?: UsageWindow; group_by?: string },
    nowMs = this.clock.now(),
  ) {
    const now = new Date(nowMs);
    const { fromMs, toMs } = UsageSpan.parse(q.from, q.to, {
      fromMs: Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1),
      toMs: Math.ceil((nowMs + 1) / HOUR_MS) * HOUR_MS,
    });
    const window: UsageWindow = q.window ?? 'day';
    // An hourly answer is held whole and priced row by row: bounded to a month of hours
    // (× the groups asked for) so that no key can ask for 400 days of hours.
    if (window === 'hour' && toMs - fromMs > MAX_HOURLY_RANGE_MS)
      throw ApiError.invalid(
        'window',
        'window=hour covers at most 31 days from–to; use window=day for longer ranges',
      );
    const groupBy = (q.group_by ? q.group_by.split(',') : []) as GroupKey[];
    const catalog = await this.catalogs.load();
    const segments = catalog.segments(fromMs, toMs);
    const rows = await this.rollups.sumByWindow(
      workspaceId,
      fromMs,
      toMs,
      window,
      groupBy,
      segments.map((s) => s.from_ms),
    );

    // Price each (window, groups, gpu_type) row exactly, then merge rows that differ only
    // in gpu_type when gpu_type is not a requested group; round once per output row. Amounts
    // are scaled integers here (money.ts AMOUNT_SCALE: exact, and the same rounding rule):
    // a month of breakdowns rates thousands of rows a request.
    const merged = new Map<
      string,
      { view: Partial<UsageRowView>; gpu: bigint; cpu: bigint; mem: bigint; events: bigint; amount: bigint }
    >();
    for (const r of rows) {
      const startMs = window === 'month' ? monthStart(Number(r.bucket)) : Number(r.bucket) * 1000;
      const nextMs =
        window === 'hour' ? startMs + HOUR_MS : window === 'day' ? startMs + DAY_MS : nextMonth(startMs);
      const groups: Partial<UsageRowView> = {};
      for (const k of groupBy) groups[k] = r[k] ?? '';
      const key = `${startMs}|${groupBy.map((k) => groups[k]).join('|')}`;
      const usage = {
        gpu_type: r.gpu_type,
        gpu_ms: BigInt(r.gpu_ms),
        cpu_millicore_ms: BigInt(r.cpu_millicore_ms),
        memory_mib_ms: BigInt(r.memory_mib_ms),
      };
      let entry = merged.get(key);
      if (!entry) {
        entry = {
          view: {
            window_start: new Date(Math.max(startMs, fromMs)).toISOString(),
            window_end: new Date(Math.min(nextMs, toMs)).toISOString(),
            ...groups,
          },
          gpu: 0n,
          cpu: 0n,
          mem: 0n,
          events: 0n,
          amount: 0n,
        };
        merged.set(key, entry);
      }
      entry.gpu += usage.gpu_ms;
      entry.cpu += usage.cpu_millicore_ms;
      entry.mem += usage.memory_mib_ms;
      entry.events += BigInt(r.events);
      // Each row lies in one price segment (an hour a change cuts comes as one row per piece).
      entry.amount += rateRowScaled(segments[Number(r.segment)].prices, usage);
    }
    let totalGpu = 0n;
    let totalCents = 0n;
    const out: UsageRowView[] = [...merged.values()].map((e) => {
      const cents = scaledToCents(e.amount);
      totalGpu += e.gpu;
      totalCents += cents;
      return {
        ...(e.view as UsageRowView),
        gpu_seconds: quantityInUnits('gpu', e.gpu),
        gpu_ms: e.gpu.toString(),
        cpu_core_seconds: quantityInUnits('cpu', e.cpu),
        memory_gib_seconds: quantityInUnits('memory', e.mem),
        events: e.events.toString(),
        amount: formatCents(cents),
        currency: CURRENCY,
      };
    });
    return {
      workspace_id: workspaceId,
      from: new Date(fromMs).toISOString(),
      to: new Date(toMs).toISOString(),
      window,
      group_by: groupBy,
      rows: out,
      totals: {
        gpu_seconds: quantityInUnits('gpu', totalGpu),
        gpu_ms: totalGpu.toString(),
        amount: formatCents(totalCents),
        currency: CURRENCY,
      },
    };
  }

  /**
   * GET /v1/usage/breakdown: the top apps or functions by amount over the span, then
   * "other", each per GPU type — the month rows of GET /v1/usage grouped by the keys and
   * gpu_type, added up without rounding again (usage-breakdown.ts).
   */
  async breakdown(
    workspaceId: string,
    q: { from?: string; to?: string; by?: BreakdownBy; limit?: number },
    nowMs = this.clock.now(),
  ) {
    const by = q.by ?? 'app_id';
    const limit = q.limit ?? DEFAULT_BREAKDOWN_LIMIT;
    const usage = await this.usage(
      workspaceId,
      { from: q.from, to: q.to, window: 'month', group_by: [...BREAKDOWN_KEYS[by], 'gpu_type'].join(',') },
      nowMs,
    );
    return {
      workspace_id: workspaceId,
      from: usage.from,
      to: usage.to,
      by,
      limit,
      currency: CURRENCY,
      ...buildBreakdown(usage.rows, by, limit),
    };
  }
}

function nextMonth(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}
