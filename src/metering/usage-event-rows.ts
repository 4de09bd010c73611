import { RowBinaryWriter } from '../platform/clickhouse/row-binary';
import { tsvEscape, tsvInt } from '../platform/clickhouse/sql';
import { UsageRecord } from '../ingestion/usage-event/usage-event';

/**
 * A usage event as `usage_events` stores it, and how the consumer's hot path writes it: the
 * dedupe key, the lookup's keys as TabSeparated, the insert's rows as RowBinary (every
 * integer range-checked for its column type).
 */

/** A validated event plus where it was read from Kafka. */
export interface StoredUsageEvent extends UsageRecord {
  ingested_at_ms: number;
  kafka_partition: number;
  kafka_offset: number;
}

/** Columns written by the consumer, in the order of `insert`'s rows. */
export const USAGE_EVENT_COLUMNS = [
  'workspace_id',
  'source',
  'id',
  'container_id',
  'app_id',
  'function_id',
  'region',
  'provider',
  'gpu_type',
  'gpu_count',
  'cpu_millicores',
  'memory_mib',
  'started_at',
  'ended_at',
  'started_at_ms',
  'ended_at_ms',
  'gpu_ms',
  'cpu_millicore_ms',
  'memory_mib_ms',
  'ingested_at_ms',
  'kafka_partition',
  'kafka_offset',
] as const;

export const dedupeKey = (e: { source: string; id: string }) => `${e.source}\u0000${e.id}`;

/** The lookup's keys as TabSeparated lines (ended_at_s, source, id), written straight (hot path). */
export function keyLines(events: readonly UsageRecord[]): string {
  let text = '';
  for (const e of events)
    text +=
      tsvInt(Math.floor(e.ended_at_ms / 1000)) + '\t' + tsvEscape(e.source) + '\t' + tsvEscape(e.id) + '\n';
  return text;
}

/**
 * One event's row as plain values, in USAGE_EVENT_COLUMNS order: what `insert` writes,
 * spelled out (for the encoder's test and the bench's other formats; not the hot path).
 */
export function usageEventRowValues(e: StoredUsageEvent): Array<string | number> {
  const d = e.ended_at_ms - e.started_at_ms;
  return [
    e.workspace_id,
    e.source,
    e.id,
    e.container_id,
    e.app_id,
    e.function_id,
    e.region,
    e.provider,
    e.gpu_type,
    e.gpu_count,
    e.cpu_millicores,
    e.memory_mib,
    Math.floor(e.started_at_ms / 1000),
    Math.floor(e.ended_at_ms / 1000),
    e.started_at_ms,
    e.ended_at_ms,
    e.gpu_count * d,
    e.cpu_millicores * d,
    e.memory_mib * d,
    e.ingested_at_ms,
    e.kafka_partition,
    e.kafka_offset,
  ];
}

/**
 * The rows `insert` sends: USAGE_EVENT_COLUMNS in order, typed as migrations/0001 declares
 * them (String, UInt8 gpu_count, UInt32 cpu/memory, DateTime seconds, UInt64 milliseconds and
 * products, UInt32 partition, UInt64 offset). Pure; exported for its test and the bench.
 */
export function encodeUsageEventRows(events: readonly StoredUsageEvent[]): Buffer {
  // About 80 bytes of integers and 9 strings a row; the writer grows if a row is longer.
  const w = new RowBinaryWriter(events.length * 256);
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    const d = e.ended_at_ms - e.started_at_ms;
    w.string(e.workspace_id);
    w.string(e.source);
    w.string(e.id);
    w.string(e.container_id);
    w.string(e.app_id);
    w.string(e.function_id);
    w.string(e.region);
    w.string(e.provider);
    w.string(e.gpu_type);
    w.uint8(e.gpu_count);
    w.uint32(e.cpu_millicores);
    w.uint32(e.memory_mib);
    w.dateTime(Math.floor(e.started_at_ms / 1000));
    w.dateTime(Math.floor(e.ended_at_ms / 1000));
    w.uint64(e.started_at_ms);
    w.uint64(e.ended_at_ms);
    // Products of validated integers, bounded so they stay exact below 2^53 (uint64 checks).
    w.uint64(e.gpu_count * d);
    w.uint64(e.cpu_millicores * d);
    w.uint64(e.memory_mib * d);
    w.uint64(e.ingested_at_ms);
    w.uint32(e.kafka_partition);
    w.uint64(e.kafka_offset);
  }
  return w.finish();
}
