import { Injectable } from '@nestjs/common';
import { ClickHouseService } from '../platform/clickhouse/clickhouse.service';
import { dateTimeFromMs, int, sql } from '../platform/clickhouse/sql';
import { UsageRecord } from '../ingestion/usage-event/usage-event';

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
        rows: events.map((e) => [Math.floor(e.ended_at_ms / 1000), e.source, e.id]),
      },
    );
    for (const r of rows) found.add(dedupeKey(r));
    return found;
  }

  async insert(events: readonly StoredUsageEvent[]): Promise<void> {
    await this.clickhouse.insertTabSeparated(
      'usage_events',
      USAGE_EVENT_COLUMNS,
      events.map((e) => {
        const duration = e.ended_at_ms - e.started_at_ms;
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
          // Products of validated integers bounded so they stay exact below 2^53.
          e.gpu_count * duration,
          e.cpu_millicores * duration,
          e.memory_mib * duration,
          e.ingested_at_ms,
          e.kafka_partition,
          e.kafka_offset,
        ];
      }),
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
