import { int, list, Sql, sql } from '../platform/clickhouse/sql';
import { SplitHour } from './price-split-hours';

/**
 * The SQL that sums the hours a price change cuts, per piece (used by the metering
 * repositories only). Both forms answer the same columns, in the same order and types —
 * segment, hour, piece_from_ms, piece_to_ms, the caller's columns, then gpu_ms,
 * cpu_millicore_ms, memory_mib_ms, events — grouped per piece, so they can be joined with
 * UNION ALL: a month's pieces come from its raw events until the month is retired, and from
 * `usage_split_pieces` after (src/retention).
 */

const PIECE_FROM = sql`tupleElement(piece, 2)`;
const PIECE_TO = sql`tupleElement(piece, 3)`;
/** An event's milliseconds inside the piece (rows are filtered to events that overlap it). */
const IN_PIECE = sql`toUInt64(least(ended_at_ms, ${PIECE_TO}) - greatest(started_at_ms, ${PIECE_FROM}))`;

function pieceTuples(split: readonly SplitHour[]): Sql {
  return list(
    split.flatMap((h) =>
      h.pieces.map(
        (p) => sql`tuple(toUInt32(${int(p.segment)}), toUInt64(${int(p.fromMs)}), toUInt64(${int(p.toMs)}))`,
      ),
    ),
  );
}

/**
 * From `usage_events`: each event clipped to each piece, with the same arithmetic as
 * usage_hourly_mv (migrations/0001), so that an hour's pieces add up to its rollup exactly.
 */
export function rawPieceRows(split: readonly SplitHour[], columns: Sql, where: Sql): Sql {
  const firstSec = split[0].hourMs / 1000;
  const lastSec = split[split.length - 1].hourMs / 1000 + 3600;
  return sql`
      SELECT toUInt32(tupleElement(piece, 1)) AS segment,
             toDateTime(intDiv(${PIECE_FROM}, 3600000) * 3600) AS hour,
             ${PIECE_FROM} AS piece_from_ms, ${PIECE_TO} AS piece_to_ms, ${columns},
             sum(toUInt64(gpu_count) * ${IN_PIECE}) AS gpu_ms,
             sum(toUInt64(cpu_millicores) * ${IN_PIECE}) AS cpu_millicore_ms,
             sum(toUInt64(memory_mib) * ${IN_PIECE}) AS memory_mib_ms,
             sum(toUInt64(started_at_ms >= ${PIECE_FROM} AND started_at_ms < ${PIECE_TO})) AS events
      FROM usage_events
      ARRAY JOIN [${pieceTuples(split)}] AS piece
      WHERE ${where}
        AND ended_at >= toDateTime(${int(firstSec)}) AND ended_at < toDateTime(${int(lastSec + 3601)})
        AND ended_at_ms > ${PIECE_FROM} AND started_at_ms < ${PIECE_TO}
      GROUP BY segment, hour, piece_from_ms, piece_to_ms, ${columns}`;
}

/**
 * From `usage_split_pieces`, for hours of retired months: the pieces were stored cut at the
 * same instants (checked by the caller: checkRetiredCuts), so a piece is read whole.
 */
export function storedPieceRows(
  split: readonly SplitHour[],
  months: readonly number[],
  columns: Sql,
  where: Sql,
): Sql {
  return sql`
      SELECT toUInt32(tupleElement(piece, 1)) AS segment,
             toDateTime(intDiv(from_ms, 3600000) * 3600) AS hour,
             from_ms AS piece_from_ms, to_ms AS piece_to_ms, ${columns},
             sum(gpu_ms) AS gpu_ms, sum(cpu_millicore_ms) AS cpu_millicore_ms,
             sum(memory_mib_ms) AS memory_mib_ms, sum(events) AS events
      FROM usage_split_pieces
      ARRAY JOIN [${pieceTuples(split)}] AS piece
      WHERE ${where} AND month IN (${list(months.map((m) => int(m)))})
        AND from_ms = ${PIECE_FROM} AND to_ms = ${PIECE_TO}
      GROUP BY segment, hour, piece_from_ms, piece_to_ms, ${columns}`;
}
