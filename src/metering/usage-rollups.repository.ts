import { Injectable } from '@nestjs/common';
import { ClickHouseService } from '../platform/clickhouse/clickhouse.service';
import { int, list, Sql, sql, str } from '../platform/clickhouse/sql';

export type UsageWindow = 'hour' | 'day' | 'month';
export const GROUP_KEYS = ['gpu_type', 'app_id', 'function_id', 'region'] as const;
export type GroupKey = (typeof GROUP_KEYS)[number];

export interface RollupRow {
  segment: string; // index of the price segment the hour falls in (see segmentIndex)
  bucket: string; // hour/day: epoch seconds of the window start; month: YYYYMM
  gpu_type: string;
  app_id?: string;
  function_id?: string;
  region?: string;
  gpu_ms: string;
  cpu_millicore_ms: string;
  memory_mib_ms: string;
  events: string;
}

const BUCKET: Record<UsageWindow, Sql> = {
  hour: new Sql('toUInt32(hour)'),
  day: new Sql('intDiv(toUInt32(hour), 86400) * 86400'),
  month: new Sql("toYYYYMM(hour, 'UTC')"),
};

export interface RatingRow {
  workspace_id: string;
  segment: string;
  gpu_type: string;
  app_id: string;
  function_id: string;
  gpu_ms: string;
  cpu_millicore_ms: string;
  memory_mib_ms: string;
}

/**
 * Which price segment an hour falls in: the number of segment starts at or before it, less
 * one. Segment starts are whole hours (price changes take effect on whole hours).
 */
function segmentIndex(segmentStartsSec: readonly number[]): Sql {
  if (segmentStartsSec.length === 0) throw new Error('at least one segment is needed');
  return sql`(arrayCount(x -> x <= toUInt32(hour), [${list(segmentStartsSec.map((s) => sql`toUInt32(${int(s)})`))}]) - 1)`;
}

/** Reads the hourly rollups (`usage_hourly`, migrations/0001). */
@Injectable()
export class UsageRollupsRepository {
  constructor(private readonly clickhouse: ClickHouseService) {}

  /**
   * Sums per window and group for one workspace over [fromSec, toSec), both whole hours.
   * gpu_type is always among the groups so that every row can be priced.
   */
  async sumByWindow(
    workspaceId: string,
    fromSec: number,
    toSec: number,
    window: UsageWindow,
    groupBy: readonly GroupKey[],
    segmentStartsSec: readonly number[],
  ): Promise<RollupRow[]> {
    const keys = [...new Set<GroupKey>(['gpu_type', ...groupBy])];
    // Column names come from the GROUP_KEYS whitelist, never from the request text.
    const cols = new Sql(keys.filter((k) => GROUP_KEYS.includes(k)).join(', '));
    return this.clickhouse.query<RollupRow>(sql`
      SELECT ${segmentIndex(segmentStartsSec)} AS segment, ${BUCKET[window]} AS bucket, ${cols},
             sum(gpu_ms) AS gpu_ms, sum(cpu_millicore_ms) AS cpu_millicore_ms,
             sum(memory_mib_ms) AS memory_mib_ms, sum(events) AS events
      FROM usage_hourly
      WHERE workspace_id = ${str(workspaceId)}
        AND hour >= toDateTime(${int(fromSec)}) AND hour < toDateTime(${int(toSec)})
      GROUP BY segment, bucket, ${cols}
      ORDER BY bucket, ${cols}, segment`);
  }

  /**
   * Usage per workspace × price segment × GPU type × app × function over [fromSec, toSec)
   * (whole hours), for rating: all workspaces, or one.
   */
  async sumForRating(
    fromSec: number,
    toSec: number,
    segmentStartsSec: readonly number[],
    workspaceId?: string,
  ): Promise<RatingRow[]> {
    const only = workspaceId === undefined ? sql`` : sql`AND workspace_id = ${str(workspaceId)}`;
    return this.clickhouse.query<RatingRow>(sql`
      SELECT workspace_id, ${segmentIndex(segmentStartsSec)} AS segment, gpu_type, app_id, function_id,
             sum(gpu_ms) AS gpu_ms, sum(cpu_millicore_ms) AS cpu_millicore_ms, sum(memory_mib_ms) AS memory_mib_ms
      FROM usage_hourly
      WHERE hour >= toDateTime(${int(fromSec)}) AND hour < toDateTime(${int(toSec)}) ${only}
      GROUP BY workspace_id, segment, gpu_type, app_id, function_id`);
  }

  /**
   * Workspaces whose hourly rollups over [fromMs, toMs) (whole hours) disagree with their raw
   * events clipped to the same span, in GPU-, millicore- or MiB-milliseconds. The rollups are
   * a materialized view, and ClickHouse does not make an insert and its view's insert atomic: a
   * failure between the two would leave raw rows without their rollup. Empty when consistent.
   */
  async rollupMismatches(
    fromMs: number,
    toMs: number,
  ): Promise<{ workspace_id: string; raw: string; hourly: string }[]> {
    const clip = sql`(least(ended_at_ms, ${int(toMs)}) - greatest(started_at_ms, ${int(fromMs)}))`;
    const raw = await this.clickhouse.query<{
      workspace_id: string;
      gpu: string;
      cpu: string;
      mem: string;
    }>(sql`
      SELECT workspace_id,
             toString(sum(toUInt64(gpu_count) * ${clip})) AS gpu,
             toString(sum(toUInt64(cpu_millicores) * ${clip})) AS cpu,
             toString(sum(toUInt64(memory_mib) * ${clip})) AS mem
      FROM usage_events
      WHERE ended_at >= toDateTime(${int(Math.floor(fromMs / 1000))})
        AND ended_at < toDateTime(${int(Math.floor(toMs / 1000) + 3601)})
        AND ended_at_ms > ${int(fromMs)} AND started_at_ms < ${int(toMs)}
      GROUP BY workspace_id`);
    const hourly = await this.clickhouse.query<{
      workspace_id: string;
      gpu: string;
      cpu: string;
      mem: string;
    }>(sql`
      SELECT workspace_id, toString(sum(gpu_ms)) AS gpu, toString(sum(cpu_millicore_ms)) AS cpu,
             toString(sum(memory_mib_ms)) AS mem
      FROM usage_hourly
      WHERE hour >= toDateTime(${int(fromMs / 1000)}) AND hour < toDateTime(${int(toMs / 1000)})
      GROUP BY workspace_id`);
    const key = (r: { gpu: string; cpu: string; mem: string }) => `${r.gpu}/${r.cpu}/${r.mem}`;
    const h = new Map(hourly.map((r) => [r.workspace_id, key(r)]));
    const out: { workspace_id: string; raw: string; hourly: string }[] = [];
    for (const r of raw) {
      if (h.get(r.workspace_id) !== key(r))
        out.push({ workspace_id: r.workspace_id, raw: key(r), hourly: h.get(r.workspace_id) ?? '0/0/0' });
      h.delete(r.workspace_id);
    }
    for (const [ws, v] of h) if (v !== '0/0/0') out.push({ workspace_id: ws, raw: '0/0/0', hourly: v });
    return out;
  }

  /** Exact totals for one workspace over all time (reconciliation, tests). */
  async totals(workspaceId: string): Promise<{ gpu_ms: bigint; events: bigint }> {
    const [row] = await this.clickhouse.query<{ gpu_ms: string; events: string }>(
      sql`SELECT sum(gpu_ms) AS gpu_ms, sum(events) AS events FROM usage_hourly WHERE workspace_id = ${str(workspaceId)}`,
    );
    return { gpu_ms: BigInt(row.gpu_ms), events: BigInt(row.events) };
  }
}
