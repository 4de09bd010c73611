import { Injectable } from '@nestjs/common';
import { ClickHouseService } from '../platform/clickhouse/clickhouse.service';
import { dateTimeFromMs, int, sql, str } from '../platform/clickhouse/sql';
import { UsageRecord } from '../ingestion/usage-event/usage-event';

/** A validated event plus where it was read from Kafka. */
export interface StoredUsageEvent extends UsageRecord {
  ingested_at_ms: number;
  kafka_partition: number;
  kafka_offset: number;
}

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
    await this.clickhouse.insert(
      'usage_events',
      events.map((e) => {
        const duration = e.ended_at_ms - e.started_at_ms;
        return {
          workspace_id: e.workspace_id,
          source: e.source,
          id: e.id,
          container_id: e.container_id,
          app_id: e.app_id,
          function_id: e.function_id,
          region: e.region,
          provider: e.provider,
          gpu_type: e.gpu_type,
          gpu_count: e.gpu_count,
          cpu_millicores: e.cpu_millicores,
          memory_mib: e.memory_mib,
          started_at: Math.floor(e.started_at_ms / 1000),
          ended_at: Math.floor(e.ended_at_ms / 1000),
          started_at_ms: e.started_at_ms,
          ended_at_ms: e.ended_at_ms,
          // Products of validated integers bounded so they stay exact below 2^53.
          gpu_ms: e.gpu_count * duration,
          cpu_millicore_ms: e.cpu_millicores * duration,
          memory_mib_ms: e.memory_mib * duration,
          ingested_at_ms: e.ingested_at_ms,
          kafka_partition: e.kafka_partition,
          kafka_offset: e.kafka_offset,
        };
      }),
    );
  }

  /** Exact totals for one workspace straight from the raw table (reconciliation, tests). */
  async rawTotals(workspaceId: string): Promise<{ events: bigint; gpu_ms: bigint }> {
    const [row] = await this.clickhouse.query<{ events: string; gpu_ms: string }>(
      sql`SELECT count() AS events, sum(gpu_ms) AS gpu_ms FROM usage_events WHERE workspace_id = ${str(workspaceId)}`,
    );
    return { events: BigInt(row.events), gpu_ms: BigInt(row.gpu_ms) };
  }

  /** Keys stored more than once; must always be empty (checked by reconciliation). */
  async duplicateKeys(limit = 100): Promise<Array<{ source: string; id: string; copies: string }>> {
    return this.clickhouse.query(
      sql`SELECT source, id, count() AS copies FROM usage_events GROUP BY source, id HAVING copies > 1 LIMIT ${int(limit)}`,
    );
  }
}
