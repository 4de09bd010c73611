import { Clock } from '../platform/clock';
import { Injectable } from '@nestjs/common';
import { ClickHouseService } from '../platform/clickhouse/clickhouse.service';
import { int, list, sql } from '../platform/clickhouse/sql';
import { SplitHour } from './price-split-hours';
import { rawPieceRows, storedPieceRows } from './split-hour-sql';

/** A workspace's usage over a span, in the units stored (UInt64 as decimal strings). */
export interface WorkspaceUsageSums {
  workspace_id: string;
  gpu_ms: string;
  cpu_millicore_ms: string;
  memory_mib_ms: string;
  events: string;
}

const PIECE_COLUMNS = sql`workspace_id, gpu_type, app_id, function_id, region`;

/**
 * What is kept of a month whose raw events are dropped (migrations/0008, src/retention):
 * the price-cut hours' pieces, each workspace's totals, and the month's record. A month is
 * retired once its row is in `retired_usage_months`, which is written last.
 */
@Injectable()
export class UsageRetirementsRepository {
  constructor(
    private readonly clickhouse: ClickHouseService,
    private readonly clock: Clock,
  ) {}

  /** Retired months (YYYYMM) among `months`, or all, each with the cuts its pieces were stored at. */
  async retired(months?: readonly number[]): Promise<Map<number, number[]>> {
    if (months !== undefined && months.length === 0) return new Map();
    const only = months === undefined ? sql`` : sql`WHERE month IN (${list(months.map((m) => int(m)))})`;
    const rows = await this.clickhouse.query<{ month: number; cuts: string[] }>(
      sql`SELECT month, any(price_cuts_ms) AS cuts FROM retired_usage_months ${only} GROUP BY month`,
    );
    return new Map(rows.map((r) => [Number(r.month), r.cuts.map(Number)]));
  }

  /** Each workspace's usage in a retired month, as its raw events summed it at retirement. */
  async recordedTotals(month: number): Promise<WorkspaceUsageSums[]> {
    return this.clickhouse.query<WorkspaceUsageSums>(sql`
      SELECT workspace_id, toString(any(gpu_ms)) AS gpu_ms, toString(any(cpu_millicore_ms)) AS cpu_millicore_ms,
             toString(any(memory_mib_ms)) AS memory_mib_ms, toString(any(events)) AS events
      FROM retired_usage_totals WHERE month = ${int(month)}
      GROUP BY workspace_id ORDER BY workspace_id`);
  }

  /**
   * Removes what an interrupted retirement of the month wrote before its record (pieces,
   * totals), so that it can be written again whole. Never call it for a retired month.
   */
  async clearUnfinished(month: number): Promise<void> {
    await this.clickhouse.dropPartition('usage_split_pieces', month);
    await this.clickhouse.dropPartition('retired_usage_totals', month);
  }

  async writeTotals(month: number, totals: readonly WorkspaceUsageSums[]): Promise<void> {
    await this.clickhouse.insert(
      'retired_usage_totals',
      totals.map((t) => ({ month, ...t })),
    );
  }

  /** The month's price-cut hours summed per piece from its raw events, into usage_split_pieces. */
  async writePieces(month: number, split: readonly SplitHour[]): Promise<void> {
    if (split.length === 0) return;
    await this.clickhouse.command(sql`
      INSERT INTO usage_split_pieces (month, workspace_id, from_ms, to_ms, gpu_type, app_id, function_id,
                                      region, gpu_ms, cpu_millicore_ms, memory_mib_ms, events)
      SELECT toUInt32(${int(month)}), workspace_id, piece_from_ms, piece_to_ms, gpu_type, app_id, function_id,
             region, gpu_ms, cpu_millicore_ms, memory_mib_ms, events
      FROM (${rawPieceRows(split, PIECE_COLUMNS, sql`1`)})`);
  }

  /**
   * The pieces as the raw events sum them and as stored, each in one canonical order: equal
   * when the copy is complete (checked before the raw events are dropped).
   */
  async piecesBothWays(
    month: number,
    split: readonly SplitHour[],
  ): Promise<{ raw: string[]; stored: string[] }> {
    if (split.length === 0) return { raw: [], stored: [] };
    const read = async (rows: ReturnType<typeof rawPieceRows>) =>
      (
        await this.clickhouse.query<Record<string, string>>(sql`
          SELECT toString(piece_from_ms) AS f, toString(piece_to_ms) AS t, ${PIECE_COLUMNS},
                 toString(gpu_ms) AS g, toString(cpu_millicore_ms) AS c, toString(memory_mib_ms) AS m,
                 toString(events) AS e
          FROM (${rows})
          WHERE gpu_ms > 0 OR cpu_millicore_ms > 0 OR memory_mib_ms > 0 OR events > 0`)
      )
        .map((r) =>
          JSON.stringify([
            r.f,
            r.t,
            r.workspace_id,
            r.gpu_type,
            r.app_id,
            r.function_id,
            r.region,
            r.g,
            r.c,
            r.m,
            r.e,
          ]),
        )
        .sort();
    return {
      raw: await read(rawPieceRows(split, PIECE_COLUMNS, sql`1`)),
      stored: await read(storedPieceRows(split, [month], PIECE_COLUMNS, sql`1`)),
    };
  }

  /** The record that makes the month retired; written last. */
  async markRetired(
    month: number,
    priceCutsMs: readonly number[],
    totals: { events: bigint; gpu_ms: bigint },
  ): Promise<void> {
    await this.clickhouse.insert('retired_usage_months', [
      {
        month,
        price_cuts_ms: priceCutsMs.map(String),
        events: totals.events.toString(),
        gpu_ms: totals.gpu_ms.toString(),
        retired_at_ms: this.clock.now(),
      },
    ]);
  }

  /** Drops the month's raw events (its partition of usage_events): at once, for good. */
  async dropRawEvents(month: number): Promise<void> {
    await this.clickhouse.dropPartition('usage_events', month);
  }
}
