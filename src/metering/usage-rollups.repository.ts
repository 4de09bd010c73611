import { Injectable } from '@nestjs/common';
import { ClickHouseService } from '../platform/clickhouse/clickhouse.service';
import { int, Sql, sql, str } from '../platform/clickhouse/sql';

export type UsageWindow = 'hour' | 'day' | 'month';
export const GROUP_KEYS = ['gpu_type', 'app_id', 'function_id', 'region'] as const;
export type GroupKey = (typeof GROUP_KEYS)[number];

export interface RollupRow {
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
  ): Promise<RollupRow[]> {
    const keys = [...new Set<GroupKey>(['gpu_type', ...groupBy])];
    // Column names come from the GROUP_KEYS whitelist, never from the request text.
    const cols = new Sql(keys.filter((k) => GROUP_KEYS.includes(k)).join(', '));
    return this.clickhouse.query<RollupRow>(sql`
      SELECT ${BUCKET[window]} AS bucket, ${cols},
             sum(gpu_ms) AS gpu_ms, sum(cpu_millicore_ms) AS cpu_millicore_ms,
             sum(memory_mib_ms) AS memory_mib_ms, sum(events) AS events
      FROM usage_hourly
      WHERE workspace_id = ${str(workspaceId)}
        AND hour >= toDateTime(${int(fromSec)}) AND hour < toDateTime(${int(toSec)})
      GROUP BY bucket, ${cols}
      ORDER BY bucket, ${cols}`);
  }

  /** Exact totals for one workspace over all time (reconciliation, tests). */
  async totals(workspaceId: string): Promise<{ gpu_ms: bigint; events: bigint }> {
    const [row] = await this.clickhouse.query<{ gpu_ms: string; events: string }>(
      sql`SELECT sum(gpu_ms) AS gpu_ms, sum(events) AS events FROM usage_hourly WHERE workspace_id = ${str(workspaceId)}`,
    );
    return { gpu_ms: BigInt(row.gpu_ms), events: BigInt(row.events) };
  }
}
