import fc from 'fast-check';
import { ClickHouseService } from '../platform/clickhouse/clickhouse.service';
import { MAX_RESOURCE_AMOUNT } from '../ingestion/usage-event/usage-event.dto';
import { RowBinaryReader } from '../platform/clickhouse/row-binary.fixtures';
import {
  encodeUsageEventRows,
  StoredUsageEvent,
  USAGE_EVENT_COLUMNS,
  usageEventRowValues,
} from './usage-event-rows';
import { UsageEventsRepository } from './usage-events.repository';

/** Reads the RowBinary body back with the column types of migrations/0001, in USAGE_EVENT_COLUMNS order. */
function decodeRows(body: Buffer): Array<Array<string | number>> {
  const r = new RowBinaryReader(body);
  const rows: Array<Array<string | number>> = [];
  while (!r.done) {
    const strings = Array.from({ length: 9 }, () => r.string());
    rows.push([
      ...strings,
      r.uint8(),
      r.uint32(),
      r.uint32(),
      r.uint32(),
      r.uint32(),
      ...Array.from({ length: 5 }, () => r.uint64()),
      r.uint64(),
      r.uint32(),
      r.uint64(),
    ]);
  }
  return rows;
}

describe('usage_events insert: one RowBinary row per event, written straight', () => {
  it('writes every column of every event, for any strings (multibyte, tabs, newlines, backslashes) and the largest products', async () => {
    const text = fc.oneof(
      fc.string({ unit: fc.constantFrom('a', 'é', '\t', '\n', '\\', '\r', '\0', '😀'), maxLength: 12 }),
      // Past 127 bytes a string's length takes two bytes.
      fc.string({ unit: fc.constantFrom('a', 'é', '😀'), minLength: 40, maxLength: 256 }),
    );
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
        cpu_millicores: fc.oneof(fc.nat(1_000_000), fc.constant(MAX_RESOURCE_AMOUNT)),
        memory_mib: fc.oneof(fc.nat(1_000_000), fc.constant(MAX_RESOURCE_AMOUNT)),
        started_at_ms: fc.integer({ min: 1.7e12, max: 1.8e12 }),
        duration: fc.integer({ min: 1, max: 3_600_000 }),
        ingested_at_ms: fc.integer({ min: 1.7e12, max: 1.8e12 }),
        kafka_partition: fc.nat(100),
        kafka_offset: fc.nat(1e9),
      })
      .map(({ duration, ...e }) => ({ ...e, ended_at_ms: e.started_at_ms + duration }));
    await fc.assert(
      fc.asyncProperty(fc.array(event, { maxLength: 20 }), async (events) => {
        let written: { table: string; columns: readonly string[]; rows: unknown[] } | undefined;
        const clickhouse = {
          insertRowBinary: async (table: string, columns: readonly string[], body: Buffer) => {
            written = { table, columns, rows: decodeRows(body) };
          },
        } as unknown as ClickHouseService;
        await new UsageEventsRepository(clickhouse).insert(events);
        expect(written).toEqual(
          events.length === 0
            ? undefined
            : { table: 'usage_events', columns: USAGE_EVENT_COLUMNS, rows: events.map(usageEventRowValues) },
        );
      }),
      { numRuns: 300 },
    );
  });
});

describe('usage_events row values', () => {
  it('are the event with its seconds and its products of the duration (7.3 s of 2 GPUs, 2.5 cores, 1 GiB)', () => {
    const e: StoredUsageEvent = {
      workspace_id: 'ws_a',
      source: 'agent://h',
      id: 'e1',
      container_id: 'c',
      app_id: 'app',
      function_id: 'fn',
      region: 'r',
      provider: 'p',
      gpu_type: 'H100',
      gpu_count: 2,
      cpu_millicores: 2500,
      memory_mib: 1024,
      started_at_ms: 1_800_000_000_500,
      ended_at_ms: 1_800_000_007_800,
      ingested_at_ms: 1_800_000_008_000,
      kafka_partition: 4,
      kafka_offset: 99,
    };
    expect(usageEventRowValues(e)).toEqual([
      'ws_a',
      'agent://h',
      'e1',
      'c',
      'app',
      'fn',
      'r',
      'p',
      'H100',
      2,
      2500,
      1024,
      1_800_000_000,
      1_800_000_007,
      1_800_000_000_500,
      1_800_000_007_800,
      14_600,
      18_250_000,
      7_475_200,
      1_800_000_008_000,
      4,
      99,
    ]);
    const [row] = decodeRows(encodeUsageEventRows([e]));
    expect(row).toEqual(usageEventRowValues(e));
  });
});
