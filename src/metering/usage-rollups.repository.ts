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

  /** Exact totals for one workspace over all time (reconciliation, tests). */
  async totals(workspaceId: string): Promise<{ gpu_ms: bigint; events: bigint }> {
    const [row] = await this.clickhouse.query<{ gpu_ms: string; events: string }>(
      sql`SELECT sum(gpu_ms) AS gpu_ms, sum(events) AS events FROM usage_hourly WHERE workspace_id = ${str(workspaceId)}`,
    );
    return { gpu_ms: BigInt(row.gpu_ms), events: BigInt(row.events) };
  }
}
