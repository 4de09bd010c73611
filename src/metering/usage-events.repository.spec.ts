import fc from 'fast-check';
import { ClickHouseService } from '../platform/clickhouse/clickhouse.service';
import { toTabSeparated } from '../platform/clickhouse/sql';
import { StoredUsageEvent, USAGE_EVENT_COLUMNS, UsageEventsRepository } from './usage-events.repository';

/** The rows as the generic encoder writes them from arrays (the reference for the hot path). */
const reference = (events: StoredUsageEvent[]) =>
  toTabSeparated(
    events.map((e) => {
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
    }),
  );

describe('usage_events insert: one TabSeparated line per event, written straight', () => {
  it('writes exactly what the row-array encoder writes, for any strings (tabs, newlines, backslashes)', async () => {
    const text = fc.string({
      unit: fc.constantFrom('a', 'é', '\t', '\n', '\\', '\r', '\0', '😀'),
      maxLength: 12,
    });
    const event = fc
      .record({
        workspace_id: text,
        source: text,
        id: text,
        container_id: text,
        app_id: text,
        function_id: text,
        region: text,
        provider: text,
        gpu_type: text,
        gpu_count: fc.integer({ min: 1, max: 64 }),
        cpu_millicores: fc.nat(1_000_000),
        memory_mib: fc.nat(1_000_000),
        started_at_ms: fc.integer({ min: 1.7e12, max: 1.8e12 }),
        duration: fc.integer({ min: 1, max: 3_600_000 }),
        ingested_at_ms: fc.integer({ min: 1.7e12, max: 1.8e12 }),
        kafka_partition: fc.nat(100),
        kafka_offset: fc.nat(1e9),
      })
      .map(({ duration, ...e }) => ({ ...e, ended_at_ms: e.started_at_ms + duration }));
    await fc.assert(
      fc.asyncProperty(fc.array(event, { maxLength: 20 }), async (events) => {
        let written: { table: string; columns: readonly string[]; body: string } | undefined;
        const clickhouse = {
          insertTabSeparatedText: async (table: string, columns: readonly string[], body: string) => {
            written = { table, columns, body };
          },
        } as unknown as ClickHouseService;
        await new UsageEventsRepository(clickhouse).insert(events);
        expect(written).toEqual({
          table: 'usage_events',
          columns: USAGE_EVENT_COLUMNS,
          body: reference(events),
        });
      }),
      { numRuns: 300 },
    );
  });
});
