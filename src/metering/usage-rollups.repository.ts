import { Injectable } from '@nestjs/common';
import { ClickHouseService } from '../platform/clickhouse/clickhouse.service';
import { ident, int, list, Sql, sql, str } from '../platform/clickhouse/sql';
import { checkRetiredCuts, monthNumber, SplitHour, splitHours } from './price-split-hours';
import { rawPieceRows, storedPieceRows } from './split-hour-sql';
import { UsageRetirementsRepository, WorkspaceUsageSums } from './usage-retirements.repository';

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
  hour: sql`toUInt32(hour)`,
  day: sql`intDiv(toUInt32(hour), 86400) * 86400`,
  month: sql`toYYYYMM(hour, 'UTC')`,
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

export interface SpanRow {
  from_ms: string; // the span the row covers: an hour, or the piece of one a price change cut
  to_ms: string;
  segment: string | number;
  workspace_id: string;
  gpu_type: string;
  app_id: string;
  function_id: string;
  region: string;
  gpu_ms: string;
  cpu_millicore_ms: string;
  memory_mib_ms: string;
  events: string;
}

/**
 * Which price segment an hour rolled up whole falls in: the number of segment starts at or
 * before it, less one. Only right for hours no segment starts inside of (see splitHours).
 */
function segmentIndex(segmentStartsMs: readonly number[]): Sql {
  if (segmentStartsMs.length === 0) throw new Error('at least one segment is needed');
  return sql`(arrayCount(x -> x <= toUInt64(toUInt32(hour)) * 1000, [${list(segmentStartsMs.map((s) => sql`toUInt64(${int(s)})`))}]) - 1)`;
}

/** Leaves out the hours summed from raw events instead. */
function wholeHoursOnly(split: readonly SplitHour[]): Sql {
  return split.length === 0
    ? sql``
    : sql`AND hour NOT IN (${list(split.map((h) => sql`toDateTime(${int(h.hourMs / 1000)})`))})`;
}

function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Reads the hourly rollups (`usage_hourly`, migrations/0001). */
@Injectable()
export class UsageRollupsRepository {
  constructor(
    private readonly clickhouse: ClickHouseService,
    private readonly retirements: UsageRetirementsRepository,
  ) {}

  /**
   * The usage of hours a price change cuts, per piece (columns: see split-hour-sql.ts): from
   * the raw events, or for a retired month (raw events dropped) from the pieces stored when
   * it was retired. Which months are retired is read here, every time: these hours are rare,
   * and a process must never read a month's raw events after another one retired it.
   */
  private async pieceRows(split: readonly SplitHour[], columns: Sql, where: Sql): Promise<Sql> {
    const retired = await this.retirements.retired([...new Set(split.map((h) => monthNumber(h.hourMs)))]);
    const live = split.filter((h) => !retired.has(monthNumber(h.hourMs)));
    const kept = split.filter((h) => retired.has(monthNumber(h.hourMs)));
    for (const h of kept) checkRetiredCuts(h, retired.get(monthNumber(h.hourMs))!);
    const parts = [
      ...(live.length > 0 ? [rawPieceRows(live, columns, where)] : []),
      ...(kept.length > 0 ? [storedPieceRows(kept, [...retired.keys()], columns, where)] : []),
    ];
    return parts.length === 1 ? parts[0] : sql`${parts[0]} UNION ALL ${parts[1]}`;
  }

  /**
   * Sums per window, price segment and group for one workspace over [fromMs, toMs), both
   * whole hours; hours a price change cuts are summed from raw events, per piece. gpu_type
   * is always among the groups so that every row can be priced.
   */
  async sumByWindow(
    workspaceId: string,
    fromMs: number,
    toMs: number,
    window: UsageWindow,
    groupBy: readonly GroupKey[],
    segmentStartsMs: readonly number[],
  ): Promise<RollupRow[]> {
    const keys = [...new Set<GroupKey>(['gpu_type', ...groupBy])];
    // Column names come from the GROUP_KEYS whitelist, never from the request text.
    const cols = list(keys.filter((k) => GROUP_KEYS.includes(k)).map((k) => ident(k)));
    const split = splitHours(segmentStartsMs);
    const rows = await this.clickhouse.query<RollupRow>(sql`
      SELECT ${segmentIndex(segmentStartsMs)} AS segment, ${BUCKET[window]} AS bucket, ${cols},
             sum(gpu_ms) AS gpu_ms, sum(cpu_millicore_ms) AS cpu_millicore_ms,
             sum(memory_mib_ms) AS memory_mib_ms, sum(events) AS events
      FROM usage_hourly
      WHERE workspace_id = ${str(workspaceId)}
        AND hour >= toDateTime(${int(fromMs / 1000)}) AND hour < toDateTime(${int(toMs / 1000)})
        ${wholeHoursOnly(split)}
      GROUP BY segment, bucket, ${cols}`);
    const inSpan = split.filter((h) => h.hourMs >= fromMs && h.hourMs < toMs);
    if (inSpan.length > 0) {
      rows.push(
        ...(await this.clickhouse.query<RollupRow>(sql`
          SELECT segment, ${BUCKET[window]} AS bucket, ${cols}, gpu_ms, cpu_millicore_ms, memory_mib_ms, events
          FROM (${await this.pieceRows(inSpan, cols, sql`workspace_id = ${str(workspaceId)}`)})`)),
      );
    }
    return rows.sort(
      (a, b) =>
        Number(a.bucket) - Number(b.bucket) ||
        keys.reduce((c, k) => c || byteOrder(a[k] ?? '', b[k] ?? ''), 0) ||
        Number(a.segment) - Number(b.segment),
    );
  }

  /**
   * Usage per workspace × price segment × GPU type × app × function over [fromMs, toMs)
   * (whole hours), for rating: all workspaces, or one. Hours a price change cuts are summed
   * from raw events, per piece.
   */
  async sumForRating(
    fromMs: number,
    toMs: number,
    segmentStartsMs: readonly number[],
    workspaceId?: string,
  ): Promise<RatingRow[]> {
    const split = splitHours(segmentStartsMs).filter((h) => h.hourMs >= fromMs && h.hourMs < toMs);
    const only = workspaceId === undefined ? sql`` : sql`AND workspace_id = ${str(workspaceId)}`;
    const cols = sql`workspace_id, gpu_type, app_id, function_id`;
    const rows = await this.clickhouse.query<RatingRow>(sql`
      SELECT ${segmentIndex(segmentStartsMs)} AS segment, ${cols},
             sum(gpu_ms) AS gpu_ms, sum(cpu_millicore_ms) AS cpu_millicore_ms, sum(memory_mib_ms) AS memory_mib_ms
      FROM usage_hourly
      WHERE hour >= toDateTime(${int(fromMs / 1000)}) AND hour < toDateTime(${int(toMs / 1000)}) ${only}
        ${wholeHoursOnly(split)}
      GROUP BY segment, ${cols}`);
    if (split.length === 0) return rows;
    const where = workspaceId === undefined ? sql`1` : sql`workspace_id = ${str(workspaceId)}`;
    const raw = await this.clickhouse.query<RatingRow>(sql`
      SELECT segment, ${cols}, sum(gpu_ms) AS gpu_ms, sum(cpu_millicore_ms) AS cpu_millicore_ms,
             sum(memory_mib_ms) AS memory_mib_ms
      FROM (${await this.pieceRows(split, cols, where)})
      GROUP BY segment, ${cols}`);
    return [...rows, ...raw];
  }

  /**
   * Usage per workspace × hour × GPU type × app × function × region over [fromMs, toMs)
   * (whole hours), each row with the span it covers and its price segment: an hour a price
   * change cuts comes as one row per piece, summed from raw events. Sorted by span start,
   * then workspace and the keys. For exports; callers keep spans short (a day) because
   * ClickHouse 18.16 sorts in memory.
   */
  async spans(
    fromMs: number,
    toMs: number,
    segmentStartsMs: readonly number[],
    workspaceId?: string,
  ): Promise<SpanRow[]> {
    const split = splitHours(segmentStartsMs).filter((h) => h.hourMs >= fromMs && h.hourMs < toMs);
    const only = workspaceId === undefined ? sql`` : sql`AND workspace_id = ${str(workspaceId)}`;
    const cols = sql`workspace_id, gpu_type, app_id, function_id, region`;
    const rows = await this.clickhouse.query<SpanRow>(sql`
      SELECT toUInt64(toUInt32(hour)) * 1000 AS from_ms, from_ms + 3600000 AS to_ms,
             ${segmentIndex(segmentStartsMs)} AS segment, ${cols},
             sum(gpu_ms) AS gpu_ms, sum(cpu_millicore_ms) AS cpu_millicore_ms,
             sum(memory_mib_ms) AS memory_mib_ms, sum(events) AS events
      FROM usage_hourly
      WHERE hour >= toDateTime(${int(fromMs / 1000)}) AND hour < toDateTime(${int(toMs / 1000)}) ${only}
        ${wholeHoursOnly(split)}
      GROUP BY hour, ${cols}`);
    if (split.length > 0) {
      const where = workspaceId === undefined ? sql`1` : sql`workspace_id = ${str(workspaceId)}`;
      rows.push(
        ...(await this.clickhouse.query<SpanRow>(sql`
          SELECT piece_from_ms AS from_ms, piece_to_ms AS to_ms, segment, ${cols},
                 gpu_ms, cpu_millicore_ms, memory_mib_ms, events
          FROM (${await this.pieceRows(split, cols, where)})`)),
      );
    }
    const keys = ['workspace_id', 'gpu_type', 'app_id', 'function_id', 'region'] as const;
    return rows.sort(
      (a, b) => Number(a.from_ms) - Number(b.from_ms) || keys.reduce((c, k) => c || byteOrder(a[k], b[k]), 0),
    );
  }

  /**
   * Workspaces whose hourly rollups over a calendar month [fromMs, toMs) disagree with their
   * raw events — or, once the month is retired, with what its raw events summed to then
   * (usageSumsMismatches). Empty when consistent.
   */
  async rollupMismatches(fromMs: number, toMs: number): Promise<UsageSumsMismatch[]> {
    const month = monthNumber(fromMs);
    if (monthNumber(toMs - 1) !== month) throw new Error('rollupMismatches compares one calendar month');
    const retired = (await this.retirements.retired([month])).has(month);
    const expected = retired
      ? await this.retirements.recordedTotals(month)
      : await this.rawTotals(fromMs, toMs);
    return usageSumsMismatches(expected, await this.hourlyTotals(fromMs, toMs));
  }

  /**
   * Each workspace's raw events over [fromMs, toMs) (whole hours), clipped to the span exactly
   * as the hourly view clips them at hour boundaries; `events`: those that started in it.
   */
  async rawTotals(fromMs: number, toMs: number): Promise<WorkspaceUsageSums[]> {
    const clip = sql`(least(ended_at_ms, ${int(toMs)}) - greatest(started_at_ms, ${int(fromMs)}))`;
    return this.clickhouse.query<WorkspaceUsageSums>(sql`
      SELECT workspace_id,
             toString(sum(toUInt64(gpu_count) * ${clip})) AS gpu_ms,
             toString(sum(toUInt64(cpu_millicores) * ${clip})) AS cpu_millicore_ms,
             toString(sum(toUInt64(memory_mib) * ${clip})) AS memory_mib_ms,
             toString(sum(toUInt64(started_at_ms >= ${int(fromMs)} AND started_at_ms < ${int(toMs)}))) AS events
      FROM usage_events
      WHERE ended_at >= toDateTime(${int(Math.floor(fromMs / 1000))})
        AND ended_at < toDateTime(${int(Math.floor(toMs / 1000) + 3601)})
        AND ended_at_ms > ${int(fromMs)} AND started_at_ms < ${int(toMs)}
      GROUP BY workspace_id ORDER BY workspace_id`);
  }

  /** Each workspace's hourly rollups over [fromMs, toMs) (whole hours). */
  async hourlyTotals(fromMs: number, toMs: number): Promise<WorkspaceUsageSums[]> {
    return this.clickhouse.query<WorkspaceUsageSums>(sql`
      SELECT workspace_id, toString(sum(gpu_ms)) AS gpu_ms, toString(sum(cpu_millicore_ms)) AS cpu_millicore_ms,
             toString(sum(memory_mib_ms)) AS memory_mib_ms, toString(sum(events)) AS events
      FROM usage_hourly
      WHERE hour >= toDateTime(${int(fromMs / 1000)}) AND hour < toDateTime(${int(toMs / 1000)})
      GROUP BY workspace_id ORDER BY workspace_id`);
  }

  /** Exact totals for one workspace over all time (reconciliation, tests). */
  async totals(workspaceId: string): Promise<{ gpu_ms: bigint; events: bigint }> {
    const [row] = await this.clickhouse.query<{ gpu_ms: string; events: string }>(
      sql`SELECT sum(gpu_ms) AS gpu_ms, sum(events) AS events FROM usage_hourly WHERE workspace_id = ${str(workspaceId)}`,
    );
    return { gpu_ms: BigInt(row.gpu_ms), events: BigInt(row.events) };
  }
}

/** A workspace whose usage differs between two sums of the same span. */
export interface UsageSumsMismatch {
  workspace_id: string;
  expected: string; // gpu_ms/cpu_millicore_ms/memory_mib_ms/events
  found: string;
}

/**
 * Workspaces whose sums differ between `expected` (raw events, or what they summed to when
 * the month was retired) and `found` (the hourly rollups); a workspace missing on one side
 * counts as zeros there. Empty when they agree. The rollups are a materialized view, and
 * ClickHouse does not make an insert and its view's insert atomic: a failure between the two
 * would leave raw rows without their rollup.
 */
export function usageSumsMismatches(
  expected: readonly WorkspaceUsageSums[],
  found: readonly WorkspaceUsageSums[],
): UsageSumsMismatch[] {
  const key = (r: WorkspaceUsageSums) => `${r.gpu_ms}/${r.cpu_millicore_ms}/${r.memory_mib_ms}/${r.events}`;
  const zero = '0/0/0/0';
  const have = new Map(found.map((r) => [r.workspace_id, key(r)]));
  const out: UsageSumsMismatch[] = [];
  for (const r of expected) {
    const f = have.get(r.workspace_id) ?? zero;
    if (f !== key(r)) out.push({ workspace_id: r.workspace_id, expected: key(r), found: f });
    have.delete(r.workspace_id);
  }
  for (const [ws, f] of have) if (f !== zero) out.push({ workspace_id: ws, expected: zero, found: f });
  return out.sort((a, b) => byteOrder(a.workspace_id, b.workspace_id));
}
