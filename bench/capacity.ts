/**
 * npm run bench:capacity — the storage figures docs/capacity.md is written from (issue 14):
 *   1. ClickHouse: N events shaped like bench:ingest's (benchEvent: 100 workspaces × 50
 *      containers, one event per container every 10 s, realistic ids and labels) inserted into
 *      `usage_events` (the hourly rollups through the materialized view), merged
 *      (OPTIMIZE … FINAL, as background merges leave them), then compressed bytes per event
 *      and per rollup row read from `system.parts`;
 *   2. Kafka: K of the same events produced as agents and the API produce them (records of one
 *      source's events, keyed by source) to `usage.events.v1`; bytes per event read from the
 *      partitions' log segments on disk.
 * Then writes the per-size table of docs/capacity.md (10k, 100k, 1M containers) from those
 * figures and the consumer's measured rate (BENCHMARKS.md, bench:ingest).
 * Options: --events N (default 2,000,000), --kafka-events K (default 200,000).
 */
import { createClient } from '@clickhouse/client';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync, unzipSync } from 'node:zlib';
import { Kafka, logLevel } from 'kafkajs';
import { SEED_GPU_TYPES } from '../src/catalog/gpu-types';
import { packUsageRecords } from '../src/ingestion/usage-event/usage-records';
import { arg, benchEnv, benchEvent, dropBenchEnv, ROOT, writeBenchResult } from './bench-support';

const N = arg('--events', 2_000_000);
const KAFKA_N = arg('--kafka-events', 200_000);
const WORKSPACES = 100;
const log = (s: string) => process.stderr.write(`[bench:capacity] ${s}\n`);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const SECONDS_PER_MONTH = 30 * 86_400;
/** Raw events ClickHouse holds at most with RAW_EVENT_RETENTION_DAYS=65: an open month of 31 days + 65. */
const RAW_DAYS_KEPT = 31 + 65;
/** Measured by bench:ingest (BENCHMARKS.md): events/s one consumer process stored through Kafka, 2 cores shared with the stack. */
const CONSUMER_EVENTS_PER_SECOND = 81_000;
/** Measured by bench:ingest (BENCHMARKS.md): CPU the API process spends per event on the HTTP path. */
const API_CPU_US_PER_EVENT = 12.8;
/** Its CPU cost there: 0.86 CPU-seconds per 100,000 events, so one dedicated core carries ≈ 116,000/s. */
const CONSUMER_CPU_SECONDS_PER_100K = 0.86;

async function clickhouseBytes(env: Record<string, string>) {
  const ch = createClient({
    url: env.CLICKHOUSE_URL,
    database: env.CLICKHOUSE_DATABASE,
    request_timeout: 600_000,
  });
  const types = `[${SEED_GPU_TYPES.map((t) => `'${t}'`).join(',')}]`;
  const base = Math.floor((Date.now() - 10 * 86_400_000) / 3_600_000) * 3_600_000;
  // benchEvent (bench-support.ts), in SQL: the same ids, labels and quantities for event i.
  for (let offset = 0; offset < N; offset += 1_000_000) {
    const n = Math.min(1_000_000, N - offset);
    await ch.command({
      query: `
        INSERT INTO usage_events (workspace_id, source, id, container_id, app_id, function_id, region, provider,
          gpu_type, gpu_count, cpu_millicores, memory_mib, started_at, ended_at, started_at_ms, ended_at_ms,
          gpu_ms, cpu_millicore_ms, memory_mib_ms, ingested_at_ms, kafka_partition, kafka_offset)
        SELECT concat('ws_', substring(toString(10000 + ws), 2)), concat('agent://gpu-host-', toString(c % 20)),
               concat(ct, ':', toString(s)), ct, concat('app_', toString(c % 5)), concat('fn_', toString(c % 7)),
               'us-east', 'oci', arrayElement(${types}, (ws + c) % 9 + 1), gpus, toUInt32(gpus) * 2000,
               toUInt32(gpus) * 16384, toDateTime(intDiv(s, 1000)), toDateTime(intDiv(e, 1000)), s, e,
               toUInt64(gpus) * (e - s), toUInt64(gpus) * 2000 * (e - s), toUInt64(gpus) * 16384 * (e - s),
               e + 150 + i % 100, toUInt32(i % 6), intDiv(i, 6)
        FROM (SELECT number + ${offset} AS i, i % ${WORKSPACES} AS ws, intDiv(i, ${WORKSPACES}) % 50 AS c,
                     concat('ct_', toString(ws), '_', toString(c)) AS ct,
                     toUInt64(${base} + intDiv(i, ${WORKSPACES * 50}) * 10000) AS s, s + 10000 - i % 997 AS e,
                     toUInt8(1 + c % 8) AS gpus
              FROM numbers(${n}))`,
    });
    log(`inserted ${fmt(offset + n)} of ${fmt(N)} events`);
  }
  for (const table of ['usage_events', 'usage_hourly'])
    await ch.command({ query: `OPTIMIZE TABLE ${table} FINAL` });
  const parts = await (
    await ch.query({
      query: `SELECT table, toString(sum(rows)) AS rows, toString(sum(data_compressed_bytes)) AS compressed,
                     toString(sum(data_uncompressed_bytes)) AS uncompressed, toString(count()) AS parts
              FROM system.parts WHERE database = '${env.CLICKHOUSE_DATABASE}' AND active
                AND table IN ('usage_events', 'usage_hourly') GROUP BY table`,
      format: 'JSONEachRow',
    })
  ).json<{ table: string; rows: string; compressed: string; uncompressed: string; parts: string }>();
  await ch.close();
  const of = (t: string) => {
    const p = parts.find((x) => x.table === t)!;
    return { rows: Number(p.rows), compressed: Number(p.compressed), uncompressed: Number(p.uncompressed) };
  };
  return { raw: of('usage_events'), hourly: of('usage_hourly') };
}

function dirBytes(dir: string): number {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .reduce((s, f) => s + statSync(join(dir, f)).size, 0);
}

async function kafkaBytes(env: Record<string, string>) {
  const topic = `${env.KAFKA_TOPIC_PREFIX}usage.events.v1`;
  const base = Date.now() - 86_400_000;
  const events = Array.from({ length: KAFKA_N }, (_, i) => benchEvent(i, WORKSPACES, base).event);
  const { records } = packUsageRecords(events.map((e) => ({ source: e.source, json: JSON.stringify(e) })));
  const jsonBytes = events.reduce((s, e) => s + Buffer.byteLength(JSON.stringify(e)), 0);
  const kafka = new Kafka({
    clientId: 'bench-capacity',
    brokers: env.KAFKA_BROKERS.split(','),
    logLevel: logLevel.NOTHING,
  });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  // One record a request: a record may be close to the topic's max.message.bytes.
  for (const r of records)
    await producer.send({ topic, acks: -1, messages: [{ key: r.key, value: r.value }] });
  await producer.disconnect();
  const dataDir = join(ROOT, '.local', 'kafka', 'data');
  const partitions = readdirSync(dataDir).filter((d) => d.startsWith(`${topic}-`));
  const onDisk = partitions.reduce((s, d) => s + dirBytes(join(dataDir, d)), 0);
  // What the same records take compressed by the producer (kafkajs has gzip built in; Kafka
  // stores a compressed batch as it comes): gzip of each record, which is one source's events.
  const gzipped = records.reduce((s, r) => s + gzipSync(r.value).length, 0);
  return { events: KAFKA_N, records: records.length, jsonBytes, onDisk, gzipped, gzipCpu: gzipCpu(records) };
}

/**
 * CPU of KAFKA_COMPRESSION=gzip per event: kafkajs gzips each request's batch with zlib at its
 * default level on the producer (the API, the agent) and unzips it on the consumer. Measured
 * on the same records in batches of about a produce request (512 KiB), by process CPU time,
 * median of 5 rounds; the rest of the producer's and consumer's work does not change.
 */
function gzipCpu(records: ReadonlyArray<{ value: string }>): { compressUs: number; decompressUs: number } {
  const batches: Buffer[] = [];
  let current: string[] = [];
  let bytes = 0;
  for (const r of records) {
    current.push(r.value);
    bytes += r.value.length;
    if (bytes >= 512 * 1024) {
      batches.push(Buffer.from(current.join('')));
      current = [];
      bytes = 0;
    }
  }
  if (current.length > 0) batches.push(Buffer.from(current.join('')));
  const cpuUs = (work: () => void) => {
    const start = process.cpuUsage();
    work();
    const used = process.cpuUsage(start);
    return used.user + used.system;
  };
  const compress: number[] = [];
  const decompress: number[] = [];
  for (let round = 0; round < 5; round++) {
    let zipped: Buffer[] = [];
    compress.push(cpuUs(() => (zipped = batches.map((b) => gzipSync(b)))) / KAFKA_N);
    decompress.push(cpuUs(() => zipped.forEach((z) => unzipSync(z))) / KAFKA_N);
  }
  const mid = (xs: number[]) => [...xs].sort((a, b) => a - b)[2];
  return { compressUs: mid(compress), decompressUs: mid(decompress) };
}

async function main() {
  const env = await benchEnv('cap', 6);
  try {
    const ch = await clickhouseBytes(env);
    const kafka = await kafkaBytes(env);
    const rawPerEvent = ch.raw.compressed / ch.raw.rows;
    const hourlyPerRow = ch.hourly.compressed / ch.hourly.rows;
    const kafkaPerEvent = kafka.onDisk / kafka.events;
    const kafkaGzipPerEvent = kafka.gzipped / kafka.events;
    log(
      `gzip: ${kafkaGzipPerEvent.toFixed(0)} bytes per event; ClickHouse: ${rawPerEvent.toFixed(1)} compressed bytes per raw event (${(ch.raw.uncompressed / ch.raw.rows).toFixed(0)} uncompressed), ${hourlyPerRow.toFixed(1)} per rollup row; Kafka: ${kafkaPerEvent.toFixed(0)} bytes per event on disk (${(kafka.jsonBytes / kafka.events).toFixed(0)} of JSON)`,
    );
    const date = new Date().toISOString();
    const gb = (bytes: number) =>
      bytes >= 1e12 ? `${(bytes / 1e12).toFixed(1)} TB` : `${(bytes / 1e9).toFixed(1)} GB`;
    const rows = [10_000, 100_000, 1_000_000].map((containers) => {
      const perSecond = containers / 10;
      const perMonth = perSecond * SECONDS_PER_MONTH;
      // One consumer process per ≈ 60 % of its measured rate (headroom for catch-up after an
      // outage: a replay or a backlog drains at the full rate), at least 2 for failover;
      // partitions: 4 per consumer process, so the group can grow without repartitioning.
      const consumers = Math.max(2, Math.ceil(perSecond / (0.6 * CONSUMER_EVENTS_PER_SECOND)));
      const partitions = Math.max(12, consumers * 4);
      // Rollup rows: at most one per container-hour series (360 events of 10 s); containers of
      // one (workspace, GPU type, app, function) share rows, so this is the upper bound.
      const rollupRows = perMonth / 360;
      const rawMonth = perMonth * rawPerEvent;
      const rollupMonth = rollupRows * hourlyPerRow;
      // Shards: the raw events ClickHouse holds at most with RAW_EVENT_RETENTION_DAYS=65 —
      // the open month (up to 31 days) and every closed month until 65 days after its end,
      // 96 days in all — on ≤ 2 TB of compressed data per shard, ≥ 1.
      const rawKept = perSecond * RAW_DAYS_KEPT * 86_400 * rawPerEvent;
      const shards = Math.max(1, Math.ceil(rawKept / 2e12));
      const window = perSecond * 45 * 86_400; // 45 days: an open month and its grace
      return `| ${fmt(containers)} | ${fmt(perSecond)} | ${partitions} / ${consumers} | ${shards} (× 2 replicas) | ${gb(rawMonth)} | ${gb(rawKept)} | ${gb(rollupMonth)} | ${gb(window * kafkaPerEvent)} | ${gb(window * kafkaGzipPerEvent)} |`;
    });
    const table = [
      `Measured ${date.slice(0, 16).replace('T', ' ')} UTC by \`npm run bench:capacity -- --events ${N} --kafka-events ${KAFKA_N}\`: ` +
        `${rawPerEvent.toFixed(1)} compressed bytes per raw event in \`usage_events\` (${(ch.raw.uncompressed / ch.raw.rows).toFixed(0)} uncompressed), ` +
        `${hourlyPerRow.toFixed(1)} per row of \`usage_hourly\`, ${kafkaPerEvent.toFixed(0)} bytes per event in Kafka's log ` +
        `(${(kafka.jsonBytes / kafka.events).toFixed(0)} bytes of CloudEvent JSON; records of one source's events, uncompressed) and ` +
        `${kafkaGzipPerEvent.toFixed(0)} bytes gzip-compressed by the producer, which costs ${kafka.gzipCpu.compressUs.toFixed(1)} µs of CPU per event to compress ` +
        `(the API spends ${API_CPU_US_PER_EVENT} µs per event in all, bench:ingest) and ${kafka.gzipCpu.decompressUs.toFixed(1)} µs to unzip in the consumer (${CONSUMER_CPU_SECONDS_PER_100K * 10} µs in all); ` +
        `one consumer process stores ${fmt(CONSUMER_EVENTS_PER_SECOND)} events/s (bench:ingest, ${CONSUMER_CPU_SECONDS_PER_100K} CPU-s per 100,000).`,
      '',
      `| GPU containers (10 s intervals) | events/s | Kafka partitions / consumer processes | ClickHouse shards | raw events per month | raw events kept (at most ${RAW_DAYS_KEPT} days) | rollups per month (upper bound) | Kafka, 45-day replay window, uncompressed | the same, gzip by the producer |`,
      '|---:|---:|---|---|---:|---:|---:|---:|---:|',
      ...rows,
    ];
    writeBenchResult('capacity', 'Capacity: bytes per event (issue 14)', table, {
      date,
      events: N,
      clickhouse: ch,
      kafka,
    });
    const doc = join(ROOT, 'docs', 'capacity.md');
    if (existsSync(doc)) {
      const text = readFileSync(doc, 'utf8');
      const start = '<!-- bench:capacity:start -->';
      const end = '<!-- bench:capacity:end -->';
      writeFileSync(
        doc,
        text.replace(new RegExp(`${start}[\\s\\S]*${end}`), [start, ...table, end].join('\n')),
      );
    }
    log('BENCHMARKS.md and docs/capacity.md updated');
  } finally {
    await dropBenchEnv(env);
  }
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
