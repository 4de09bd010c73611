import { Injectable } from '@nestjs/common';
import { ClickHouseService } from '../platform/clickhouse/clickhouse.service';
import { dateTimeFromMs, ident, int, list, Sql, sql, str } from '../platform/clickhouse/sql';
import { UsageRecord } from '../ingestion/usage-event/usage-event';
import {
  dedupeKey,
  encodeUsageEventRows,
  keyLines,
  StoredUsageEvent,
  USAGE_EVENT_COLUMNS,
  usageEventRowValues,
} from './usage-event-rows';
import type { RatingRow } from './usage-rollups.repository';

/**
 * The events of a line: those that ended inside [fromMs, toMs) or overlap it, first accepted
 * (ingested_at_ms: the Kafka record's timestamp, the same after a replay) in
 * (ingestedAfterMs, ingestedUpToMs].
 */
export interface LineEventSpan {
  fromMs: number;
  toMs: number;
  ingestedAfterMs: number; // -1: from the beginning
  ingestedUpToMs: number;
  workspaceIds?: readonly string[];
}

export interface LineDigestRow {
  workspace_id: string;
  line_key: string;
  events: string;
  quantity_ms: string;
  sip: string; // UInt64 sums, modulo 2^64
  city: string;
}

export interface LineEventRow {
  source: string;
  id: string;
  event_from_ms: string; // the event's started_at and ended_at
  event_to_ms: string;
  piece_from_ms: string;
  piece_to_ms: string;
  ms: string; // the event's milliseconds inside the piece
  quantity_ms: string; // × GPUs, millicores or MiB: the line's base unit
}

/** A month's usage per piece × workspace × provider × GPU type × region (sumByProvider). */
export interface ProviderUsageRow {
  piece_index: string;
  workspace_id: string;
  provider: string;
  gpu_type: string;
  region: string;
  gpu_ms: string;
  cpu_millicore_ms: string;
  memory_mib_ms: string;
}

function lineEventsWhere(span: LineEventSpan): Sql {
  const only =
    span.workspaceIds === undefined
      ? sql`1`
      : span.workspaceIds.length === 0
        ? sql`0`
        : sql`workspace_id IN (${list(span.workspaceIds.map((w) => str(w)))})`;
  return sql`${only}
        AND ended_at >= toDateTime(${int(Math.floor(span.fromMs / 1000))})
        AND ended_at < toDateTime(${int(Math.floor(span.toMs / 1000) + 3601)})
        AND ended_at_ms > ${int(span.fromMs)} AND started_at_ms < ${int(span.toMs)}
        ${span.ingestedAfterMs < 0 ? sql`` : sql`AND ingested_at_ms > ${int(span.ingestedAfterMs)}`}
        AND ingested_at_ms <= ${int(span.ingestedUpToMs)}`;
}

/**
 * GPU-, millicore- and MiB-ms of every event of the span `pieces` cover (consecutive [from, to)
 * pieces; accepted up to `accepted.ingestedUpToMs`, of `accepted.workspaceIds` when given),
 * each clipped to each piece with the rollups' arithmetic, summed per piece — its number, as a
 * string, in column `index` — and `columns` (names from the caller's code, never from input).
 */
function clippedSums(
  pieces: ReadonlyArray<{ fromMs: number; toMs: number }>,
  accepted: Pick<LineEventSpan, 'ingestedUpToMs' | 'workspaceIds'>,
  columns: readonly string[],
  index: string,
): Sql {
  const span: LineEventSpan = {
    fromMs: pieces[0].fromMs,
    toMs: pieces[pieces.length - 1].toMs,
    ingestedAfterMs: -1,
    ...accepted,
  };
  const pieceList = list(
    pieces.map(
      (p, i) => sql`tuple(toUInt32(${int(i)}), toUInt64(${int(p.fromMs)}), toUInt64(${int(p.toMs)}))`,
    ),
  );
  const cols = list(columns.map((c) => ident(c)));
  const from = sql`tupleElement(piece, 2)`;
  const to = sql`tupleElement(piece, 3)`;
  const clip = sql`(least(ended_at_ms, ${to}) - greatest(started_at_ms, ${from}))`;
  return sql`
      SELECT toString(tupleElement(piece, 1)) AS ${ident(index)}, ${cols},
             toString(sum(toUInt64(gpu_count) * ${clip})) AS gpu_ms,
             toString(sum(toUInt64(cpu_millicores) * ${clip})) AS cpu_millicore_ms,
             toString(sum(toUInt64(memory_mib) * ${clip})) AS memory_mib_ms
      FROM usage_events
      ARRAY JOIN [${pieceList}] AS piece
      WHERE ${lineEventsWhere(span)} AND ended_at_ms > ${from} AND started_at_ms < ${to}
      GROUP BY ${ident(index)}, ${cols}`;
}

/** An event's part of each line (key, quantity in the line's base unit), clipped to the span. */
function lineContributions(span: LineEventSpan): Sql {
  const clip = sql`toUInt64(least(ended_at_ms, ${int(span.toMs)}) - greatest(started_at_ms, ${int(span.fromMs)}))`;
  return sql`[tuple(concat('gpu:', gpu_type), toUInt64(gpu_count) * ${clip}),
              tuple('cpu', toUInt64(cpu_millicores) * ${clip}),
              tuple('memory', toUInt64(memory_mib) * ${clip})]`;
}

/** What multiplies an event's milliseconds in a line's base unit. */
function lineFactor(lineKey: string): Sql {
  if (lineKey === 'cpu') return sql`toUInt64(cpu_millicores)`;
  if (lineKey === 'memory') return sql`toUInt64(memory_mib)`;
  return sql`toUInt64(gpu_count)`;
}

/** The events a line key covers. */
function lineMatch(lineKey: string): Sql {
  if (lineKey === 'cpu' || lineKey === 'memory') return sql`1`;
  if (!lineKey.startsWith('gpu:')) throw new Error(`not a usage line key: ${lineKey}`);
  return sql`gpu_type = ${str(lineKey.slice(4))}`;
}

/** Reads and writes the raw `usage_events` table (migrations/0001). */
@Injectable()
export class UsageEventsRepository {
  constructor(private readonly clickhouse: ClickHouseService) {}

  /**
   * Which of these events are already stored, as dedupe keys. The lookup is by the table's
   * sort key (ended_at, source, id), so it reads only the granules around the batch's end
   * times. A copy whose ended_at differs from the stored one is not found here; see
   * src/metering/README.md for why that is a bounded, detected case.
   */
  async findStoredKeys(events: readonly UsageRecord[]): Promise<Set<string>> {
    const found = new Set<string>();
    if (events.length === 0) return found;
    let min = Infinity;
    let max = -Infinity;
    for (const e of events) {
      if (e.ended_at_ms < min) min = e.ended_at_ms;
      if (e.ended_at_ms > max) max = e.ended_at_ms;
    }
    // The keys travel as an external table (data), not as SQL literals.
    const rows = await this.clickhouse.queryWithExternalTable<{ source: string; id: string }>(
      sql`SELECT source, id FROM usage_events
          WHERE ended_at >= ${dateTimeFromMs(min)} AND ended_at <= ${dateTimeFromMs(max)}
            AND (ended_at, source, id) IN (SELECT toDateTime(ended_at_s), source, id FROM batch_keys)`,
      {
        name: 'batch_keys',
        structure: 'ended_at_s UInt32, source String, id String',
        rows: keyLines(events),
      },
    );
    for (const r of rows) found.add(dedupeKey(r));
    return found;
  }

  /** The events as RowBinary rows in USAGE_EVENT_COLUMNS order (hot path: one buffer, no strings per row). */
  async insert(events: readonly StoredUsageEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.clickhouse.insertRowBinary(
      'usage_events',
      USAGE_EVENT_COLUMNS,
      encodeUsageEventRows(events),
      () => events.map(usageEventRowValues),
    );
  }

  /** How many events are stored, and their GPU-ms (replay summaries, reconciliation). */
  async totals(): Promise<{ events: bigint; gpu_ms: bigint }> {
    const [row] = await this.clickhouse.query<{ n: string; gpu_ms: string }>(
      sql`SELECT toString(count()) AS n, toString(sum(gpu_ms)) AS gpu_ms FROM usage_events`,
    );
    return { events: BigInt(row.n), gpu_ms: BigInt(row.gpu_ms) };
  }

  /**
   * Per workspace and invoice line key (gpu:<type>, cpu, memory), the events of [fromMs, toMs)
   * first accepted in (ingestedAfterMs, ingestedUpToMs] that contribute to it: how many, the
   * quantity they add up to in the line's base unit (GPU-, millicore-, MiB-ms, each event
   * clipped to the span), and a multiset hash of (source, id, quantity) — two 64-bit sums,
   * sipHash64 and cityHash64, modulo 2^64: independent of order, so shards and days add up, and
   * equal exactly when the same events with the same quantities are there (see
   * src/invoicing/README.md, line tracing).
   */
  async lineDigests(span: LineEventSpan): Promise<LineDigestRow[]> {
    return this.clickhouse.query<LineDigestRow>(sql`
      SELECT workspace_id, tupleElement(contribution, 1) AS line_key, toString(count()) AS events,
             toString(sum(tupleElement(contribution, 2))) AS quantity_ms,
             toString(sum(sipHash64(source, id, tupleElement(contribution, 2)))) AS sip,
             toString(sum(cityHash64(source, id, tupleElement(contribution, 2)))) AS city
      FROM usage_events
      ARRAY JOIN ${lineContributions(span)} AS contribution
      WHERE ${lineEventsWhere(span)} AND tupleElement(contribution, 2) > 0
      GROUP BY workspace_id, line_key`);
  }

  /**
   * The events behind one line key of one workspace, as lineDigests counts them, each with
   * its part inside every piece [from, to) given (a line's price pieces, or its whole span):
   * for one UTC day of ended_at at a time (ClickHouse 18.16 sorts in memory), by source and id.
   */
  async lineEvents(
    span: LineEventSpan & { workspaceId: string; lineKey: string },
    pieces: ReadonlyArray<{ fromMs: number; toMs: number }>,
    dayFromMs: number,
    dayToMs: number,
  ): Promise<LineEventRow[]> {
    const pieceList = list(
      pieces.map((p) => sql`tuple(toUInt64(${int(p.fromMs)}), toUInt64(${int(p.toMs)}))`),
    );
    const from = sql`tupleElement(piece, 1)`;
    const to = sql`tupleElement(piece, 2)`;
    const factor = lineFactor(span.lineKey);
    return this.clickhouse.query<LineEventRow>(sql`
      SELECT source, id, toString(started_at_ms) AS event_from_ms, toString(ended_at_ms) AS event_to_ms,
             toString(${from}) AS piece_from_ms, toString(${to}) AS piece_to_ms,
             toString(least(ended_at_ms, ${to}) - greatest(started_at_ms, ${from})) AS ms,
             toString(${factor} * (least(ended_at_ms, ${to}) - greatest(started_at_ms, ${from}))) AS quantity_ms
      FROM usage_events
      ARRAY JOIN [${pieceList}] AS piece
      WHERE ${lineEventsWhere(span)} AND workspace_id = ${str(span.workspaceId)}
        AND ${lineMatch(span.lineKey)} AND ${factor} > 0
        AND ended_at_ms >= ${int(dayFromMs)} AND ended_at_ms < ${int(dayToMs)}
        AND ended_at_ms > ${from} AND started_at_ms < ${to}
      ORDER BY source, id, ${from}`);
  }

  /**
   * Usage per workspace × price segment × GPU type × app × function of these workspaces'
   * events of [fromMs, toMs) first accepted at or before `ingestedUpToMs` (a threshold
   * invoice's cut), each event clipped to each segment with the rollups' arithmetic: what
   * UsageRollupsRepository.sumForRating answers when exactly these events are stored.
   */
  async sumForRatingAcceptedBy(
    segments: ReadonlyArray<{ from_ms: number; to_ms: number }>,
    workspaceIds: readonly string[],
    ingestedUpToMs: number,
  ): Promise<RatingRow[]> {
    return this.clickhouse.query<RatingRow>(
      clippedSums(
        segments.map((s) => ({ fromMs: s.from_ms, toMs: s.to_ms })),
        { ingestedUpToMs, workspaceIds },
        ['workspace_id', 'gpu_type', 'app_id', 'function_id'],
        'segment',
      ),
    );
  }

  /**
   * Usage per piece × workspace × provider × GPU type × region: every event of [first piece's
   * start, last piece's end) clipped to each piece with the rollups' arithmetic (margin
   * reports: the hourly rollups have no provider). One pass over the month's raw events.
   */
  async sumByProvider(pieces: ReadonlyArray<{ fromMs: number; toMs: number }>): Promise<ProviderUsageRow[]> {
    return this.clickhouse.query<ProviderUsageRow>(
      clippedSums(
        pieces,
        { ingestedUpToMs: Number.MAX_SAFE_INTEGER },
        ['workspace_id', 'provider', 'gpu_type', 'region'],
        'piece_index',
      ),
    );
  }

  /** How many events ended in [fromMs, toMs) (read by the sort key's first column). */
  async countEndedIn(fromMs: number, toMs: number): Promise<bigint> {
    const [row] = await this.clickhouse.query<{ n: string }>(sql`
      SELECT toString(count()) AS n FROM usage_events
      WHERE ended_at >= ${dateTimeFromMs(fromMs)} AND ended_at < ${dateTimeFromMs(toMs)}
        AND ended_at_ms >= ${int(fromMs)} AND ended_at_ms < ${int(toMs)}`);
    return BigInt(row.n);
  }

  /**
   * Events in partition `month` (toYYYYMM(ended_at) in each server's time zone) that ended
   * outside [fromMs, toMs), the month in UTC: none unless a server's time zone is not UTC, and
   * then dropping the partition would drop events of another month.
   */
  async countInPartitionOutside(month: number, fromMs: number, toMs: number): Promise<bigint> {
    const [row] = await this.clickhouse.query<{ n: string }>(sql`
      SELECT toString(count()) AS n FROM usage_events
      WHERE toYYYYMM(ended_at) = ${int(month)} AND (ended_at_ms < ${int(fromMs)} OR ended_at_ms >= ${int(toMs)})`);
    return BigInt(row.n);
  }

  /**
   * Keys (source, id) stored more than once; must always be empty (reconciliation reports it).
   * `endedFromMs`/`endedToMs` limit the scan to events that ended in a span.
   */
  async duplicateKeys(
    limit = 100,
    endedFromMs?: number,
    endedToMs?: number,
  ): Promise<Array<{ source: string; id: string; copies: string }>> {
    const span =
      endedFromMs === undefined || endedToMs === undefined
        ? sql`1`
        : sql`ended_at >= ${dateTimeFromMs(endedFromMs)} AND ended_at <= ${dateTimeFromMs(endedToMs)}`;
    return this.clickhouse.query(sql`
      SELECT source, id, toString(count()) AS copies FROM usage_events WHERE ${span}
      GROUP BY source, id HAVING count() > 1 LIMIT ${int(limit)}`);
  }
}
