/**
 * npm run bench:ingest — usage events through both entrances into ClickHouse, beside the two
 * ceilings of this machine, measured in the same run:
 *   ceiling K: raw kafkajs produce + consume of the same messages (no processing)
 *   ceiling C: raw ClickHouse inserts of the same rows into usage_events (its view included)
 *   pipeline/kafka: agents produce to usage.events.v1 → consumer → ClickHouse (queryable)
 *   pipeline/http:  POST /v1/events → Kafka → consumer → ClickHouse (queryable)
 * Options: --events N (default 1,000,000), --http-events N (default = events), --workspaces N (100).
 */
import { writeFileSync, readFileSync, existsSync, mkdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@clickhouse/client';
import { Kafka, logLevel, Producer } from 'kafkajs';
import { toTabSeparated } from '../src/platform/clickhouse/sql';
import {
  encodeUsageEventRows,
  StoredUsageEvent,
  USAGE_EVENT_COLUMNS,
  usageEventRowValues,
} from '../src/metering/usage-event-rows';
import { PackedRecord, packUsageRecords } from '../src/ingestion/usage-event/usage-records';
import {
  AGENT_TOKEN,
  benchEnv,
  dropBenchEnv,
  benchEvent,
  median,
  percentile,
  ROOT,
  ServiceProc,
  arg,
  stackCpuSeconds,
} from './bench-support';

const N = arg('--events', 1_000_000);
const HTTP_N = arg('--http-events', N);
const WORKSPACES = arg('--workspaces', 100);
const PRODUCERS = 4;
const SEND_BATCH = 2000;
const log = (s: string) => process.stderr.write(`[bench] ${s}\n`);

interface Prepared {
  values: string[];
  ids: string[];
  /** Each event's ended_at in Unix seconds: lets the freshness probe read only the granules around its samples. */
  endedAtS: Uint32Array;
  gpuMs: bigint;
  /** The Kafka records agents write: each SEND_BATCH window packed by source (usage-records.ts). */
  records: PackedRecord[];
}
/**
 * `n` events of the bench workload (bench-support's benchEvent: 10-second intervals, 5,000 a
 * slot at 100 workspaces), all ended in the past: the first slot starts early enough that the
 * last ends before now (an event ending more than EVENT_MAX_FUTURE_SECONDS after it is
 * accepted is refused; the minute-long steady run at 42,000/s spans 84 minutes of slots).
 */
function prepare(n: number): Prepared {
  const spanMs = Math.ceil(n / (WORKSPACES * 50)) * 10_000;
  const baseMs = Date.now() - Math.max(3_600_000, spanMs + 600_000);
  const values: string[] = new Array(n);
  const sources: string[] = new Array(n);
  const ids: string[] = new Array(n);
  const endedAtS = new Uint32Array(n);
  let gpuMs = 0n;
  for (let i = 0; i < n; i++) {
    const { event, gpuMs: g } = benchEvent(i, WORKSPACES, baseMs);
    values[i] = JSON.stringify(event);
    sources[i] = event.source;
    ids[i] = event.id;
    endedAtS[i] = Math.floor(Date.parse(event.data.ended_at) / 1000);
    gpuMs += BigInt(g);
  }
  const records: PackedRecord[] = [];
  for (let from = 0; from < n; from += SEND_BATCH) {
    const window = values
      .slice(from, from + SEND_BATCH)
      .map((json, k) => ({ source: sources[from + k], json }));
    for (const r of packUsageRecords(window).records)
      records.push({ ...r, indexes: r.indexes.map((k) => from + k) });
  }
  return { values, ids, endedAtS, gpuMs, records };
}

const eventsPerRecord = (p: Prepared) => p.values.length / p.records.length;

function kafkaFor(env: Record<string, string>) {
  return new Kafka({ clientId: 'bench', brokers: env.KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING });
}

/** Produces all records with PRODUCERS idempotent producers (agents) in parallel; calls back per acknowledged request with its records. */
async function produceAll(
  kafka: Kafka,
  topic: string,
  p: Prepared,
  onAcked: (records: PackedRecord[], at: number) => void,
): Promise<void> {
  const producers: Producer[] = [];
  for (let i = 0; i < PRODUCERS; i++) {
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    producers.push(producer);
  }
  let next = 0;
  await Promise.all(
    producers.map(async (producer) => {
      while (next < p.records.length) {
        // About SEND_BATCH events a request, as an agent's sender does.
        const from = next;
        let to = from;
        for (let events = 0; to < p.records.length && events < SEND_BATCH; to++)
          events += p.records[to].indexes.length;
        next = to;
        const timestamp = String(Date.now());
        const batch = p.records.slice(from, to);
        await producer.send({
          topic,
          acks: -1,
          messages: batch.map((r) => ({ key: r.key, value: r.value, timestamp })),
        });
        onAcked(batch, Date.now());
      }
    }),
  );
  for (const producer of producers) await producer.disconnect();
}

/**
 * Ceiling K: produce and consume the same records at once, parsing each (JSON.parse) and
 * nothing else. In events/s (the records hold several events each).
 */
async function kafkaCeiling(p: Prepared): Promise<number> {
  const env = await benchEnv('kceil');
  const kafka = kafkaFor(env);
  const topic = `${env.KAFKA_TOPIC_PREFIX}usage.events.v1`;
  const consumer = kafka.consumer({
    groupId: `${env.KAFKA_CONSUMER_GROUP}-ceiling`,
    maxBytesPerPartition: 8 << 20,
    maxBytes: 32 << 20,
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let consumed = 0;
  let done!: () => void;
  const all = new Promise<void>((r) => (done = r));
  await consumer.run({
    autoCommit: false,
    partitionsConsumedConcurrently: 6,
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) consumed += (JSON.parse(m.value!.toString()) as unknown[]).length;
      await consumer.commitOffsets([
        { topic, partition: batch.partition, offset: (BigInt(batch.lastOffset()) + 1n).toString() },
      ]);
      if (consumed >= p.values.length) done();
    },
  });
  const t0 = Date.now();
  await produceAll(kafka, topic, p, () => undefined);
  await all;
  const seconds = (Date.now() - t0) / 1000;
  await consumer.disconnect();
  await dropBenchEnv(env);
  return p.values.length / seconds;
}

/** The prepared events as the consumer stores them (read from partition 0, offsets in order). */
function storedEvents(p: Prepared): StoredUsageEvent[] {
  const ingestedAt = Date.now();
  return p.values.map((v, i) => {
    const e = JSON.parse(v);
    const d = e.data;
    return {
      workspace_id: e.subject,
      source: e.source,
      id: e.id,
      container_id: d.container_id,
      app_id: d.app_id,
      function_id: d.function_id,
      region: d.region,
      provider: d.provider,
      gpu_type: d.gpu_type,
      gpu_count: d.gpu_count,
      cpu_millicores: d.cpu_millicores,
      memory_mib: d.memory_mib,
      started_at_ms: Date.parse(d.started_at),
      ended_at_ms: Date.parse(d.ended_at),
      ingested_at_ms: ingestedAt,
      kafka_partition: 0,
      kafka_offset: i,
    };
  });
}

interface ClickHouseCeiling {
  /** rows/s: pre-encoded RowBinary (what the consumer sends) into usage_events, its hourly view included */
  rowBinary: number;
  /** rows/s: the same bytes into a copy of usage_events without the view (the view's cost, ARRAY JOIN included) */
  rowBinaryNoView: number;
  /** rows/s: the same rows as TabSeparated (what the consumer sent before), view included */
  tsv: number;
  /** rows/s: Node encoding the rows as RowBinary (the consumer's encodeUsageEventRows) */
  encodeRowBinary: number;
  /** rows/s: Node encoding the same rows as TabSeparated (toTabSeparated) */
  encodeTsv: number;
}

/**
 * Ceiling C, ClickHouse itself: the rows the consumer writes, 20,000 per insert, one insert
 * after another — encoded before the clock starts, so this is the server's rate, not Node's.
 * RowBinary (the consumer's format) into usage_events with its hourly view and into a copy
 * without it (what the view costs), and TabSeparated (the format before) with the view. The
 * two encodings in Node are timed on their own beside them.
 */
async function clickhouseCeiling(p: Prepared): Promise<ClickHouseCeiling> {
  const env = await benchEnv('cceil');
  const db = env.CLICKHOUSE_DATABASE;
  const events = storedEvents(p);
  const chunks: StoredUsageEvent[][] = [];
  for (let i = 0; i < events.length; i += 20_000) chunks.push(events.slice(i, i + 20_000));
  const timed = <T>(f: () => T): [T, number] => {
    const t0 = process.hrtime.bigint();
    const out = f();
    return [out, Number(process.hrtime.bigint() - t0) / 1e9];
  };
  const [rowBinaryBodies, rowBinaryEncodeSeconds] = timed(() => chunks.map((c) => encodeUsageEventRows(c)));
  const [tsvBodies, tsvEncodeSeconds] = timed(() =>
    chunks.map((c) => Buffer.from(toTabSeparated(c.map(usageEventRowValues)))),
  );
  await clickhouseStatement(env, `CREATE TABLE ${db}.usage_events_without_view AS ${db}.usage_events`);
  const insertAll = async (table: string, format: string, bodies: Buffer[]) => {
    const query = `INSERT INTO ${db}.${table} (${USAGE_EVENT_COLUMNS.join(', ')}) FORMAT ${format}`;
    const url = `${env.CLICKHOUSE_URL}/?query=${encodeURIComponent(query)}`;
    const t0 = process.hrtime.bigint();
    for (const body of bodies) {
      const res = await fetch(url, {
        method: 'POST',
        body: new Blob([new Uint8Array(body.buffer as ArrayBuffer, body.byteOffset, body.length)]),
      });
      if (!res.ok) throw new Error(`insert: ${res.status} ${(await res.text()).slice(0, 300)}`);
    }
    return events.length / (Number(process.hrtime.bigint() - t0) / 1e9);
  };
  const rowBinary = await insertAll('usage_events', 'RowBinary', rowBinaryBodies);
  const rowBinaryNoView = await insertAll('usage_events_without_view', 'RowBinary', rowBinaryBodies);
  await clickhouseStatement(env, `TRUNCATE TABLE ${db}.usage_events`);
  await clickhouseStatement(env, `TRUNCATE TABLE ${db}.usage_hourly`);
  const tsv = await insertAll('usage_events', 'TabSeparated', tsvBodies);
  // Both formats stored the same rows: the hourly totals of the TabSeparated insert equal
  // those of the RowBinary copy without the view.
  const [viaTsv, viaRowBinary] = await Promise.all([
    clickhouseStatement(env, `SELECT sum(gpu_ms), count() FROM ${db}.usage_hourly`),
    clickhouseStatement(env, `SELECT sum(gpu_ms), count() FROM ${db}.usage_events_without_view`),
  ]);
  if (viaTsv.split('\t')[0] !== viaRowBinary.split('\t')[0] || BigInt(viaTsv.split('\t')[0]) !== p.gpuMs)
    throw new Error(
      `ceiling C: the formats stored different GPU-ms (${viaTsv.trim()} / ${viaRowBinary.trim()})`,
    );
  await dropBenchEnv(env);
  return {
    rowBinary,
    rowBinaryNoView,
    tsv,
    encodeRowBinary: events.length / rowBinaryEncodeSeconds,
    encodeTsv: events.length / tsvEncodeSeconds,
  };
}

/** One statement over ClickHouse's HTTP interface; its text answer. */
async function clickhouseStatement(env: Record<string, string>, query: string): Promise<string> {
  const res = await fetch(`${env.CLICKHOUSE_URL}/?query=${encodeURIComponent(query)}`, { method: 'POST' });
  const text = await res.text();
  if (!res.ok) throw new Error(`ClickHouse: ${text.slice(0, 300)}`);
  return text;
}

/**
 * Anchor: ClickHouse's own Kafka table engine (C++, librdkafka) with a materialized view into
 * usage_events (its hourly view included), reading the same events as flat JSONEachRow
 * records, one per message — what a ClickHouse user would build instead of gpumeter: no
 * validation, no dedupe, no dead letters. The Kafka table exists before anything is produced:
 * for a new group librdkafka starts at the end of the topic (auto.offset.reset=largest), which
 * is why a Kafka table made over a filled topic reads 0 rows.
 */
async function kafkaEngineAnchor(p: Prepared): Promise<number> {
  const env = await benchEnv('kengine');
  const db = env.CLICKHOUSE_DATABASE;
  const kafka = kafkaFor(env);
  const topic = `${env.KAFKA_TOPIC_PREFIX}anchor.flat`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 6 }], waitForLeaders: true });
  await admin.disconnect();
  const ch = (query: string) => clickhouseStatement(env, query);
  const described = (await ch(`DESCRIBE TABLE ${db}.usage_events`))
    .trim()
    .split('\n')
    .map((l) => l.split('\t'));
  const types = new Map(described.map(([name, type]) => [name, type]));
  // Columns the consumer does not write (stored_at) take their defaults in the view.
  const defaults = described
    .filter(([name]) => !(USAGE_EVENT_COLUMNS as readonly string[]).includes(name))
    .map(([name, , , expression]) => `${expression} AS ${name}`);
  const columns = USAGE_EVENT_COLUMNS.map((c) => `${c} ${types.get(c)}`).join(', ');
  await ch(
    `CREATE TABLE ${db}.usage_kafka (${columns}) ENGINE = Kafka('${env.KAFKA_BROKERS}', '${topic}', '${db}-anchor', 'JSONEachRow')`,
  );
  await ch(
    `CREATE MATERIALIZED VIEW ${db}.usage_from_kafka TO ${db}.usage_events AS SELECT ${[...USAGE_EVENT_COLUMNS, ...defaults].join(', ')} FROM ${db}.usage_kafka`,
  );
  await new Promise((r) => setTimeout(r, 3000)); // the engine's consumer joined its group
  const flat = storedEvents(p).map((e) => {
    const values = usageEventRowValues(e);
    return JSON.stringify(Object.fromEntries(USAGE_EVENT_COLUMNS.map((c, k) => [c, values[k]])));
  });
  const t0 = Date.now();
  const producers = await Promise.all(
    Array.from({ length: PRODUCERS }, async () => {
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      return producer;
    }),
  );
  let next = 0;
  const producing = Promise.all(
    producers.map(async (producer) => {
      while (next < flat.length) {
        const from = next;
        next = Math.min(from + SEND_BATCH, flat.length);
        await producer.send({
          topic,
          acks: -1,
          messages: flat.slice(from, next).map((value) => ({ value })),
        });
      }
    }),
  );
  let count = 0;
  for (let polls = 0; count < flat.length; polls++) {
    await new Promise((r) => setTimeout(r, 200));
    count = Number((await ch(`SELECT count() FROM ${db}.usage_events`)).trim());
    if (polls > 3000)
      throw new Error(`the Kafka engine stored ${count} of ${flat.length} rows in 10 minutes`);
  }
  const seconds = (Date.now() - t0) / 1000;
  await producing;
  for (const producer of producers) await producer.disconnect();
  await ch(`DROP TABLE ${db}.usage_from_kafka`);
  await ch(`DROP TABLE ${db}.usage_kafka`);
  await dropBenchEnv(env);
  return flat.length / seconds;
}

interface PathResult {
  events: number;
  seconds: number;
  eventsPerSecond: number;
  delayP50Ms: number;
  delayP99Ms: number;
  peakRssMiB: Record<string, number>;
  cpuSeconds: Record<string, number>;
  /** ClickHouse's own counters over the measurement: inserts, and the time its background merges took */
  clickhouse: ClickHouseActivity;
  exact: boolean;
}

interface ClickHouseActivity {
  inserts: number;
  mergeSeconds: number;
}

/** ClickHouse's server-wide counters (nothing else uses the server while a bench measures). */
async function clickhouseCounters(env: Record<string, string>): Promise<ClickHouseActivity> {
  const text = await clickhouseStatement(
    env,
    "SELECT event, value FROM system.events WHERE event IN ('InsertQuery', 'MergesTimeMilliseconds') FORMAT TSV",
  );
  const counters = new Map(
    text
      .trim()
      .split('\n')
      .map((l) => l.split('\t') as [string, string]),
  );
  return {
    inserts: Number(counters.get('InsertQuery') ?? 0),
    mergeSeconds: Number(counters.get('MergesTimeMilliseconds') ?? 0) / 1000,
  };
}

const activitySince = async (env: Record<string, string>, before: ClickHouseActivity) => {
  const after = await clickhouseCounters(env);
  return { inserts: after.inserts - before.inserts, mergeSeconds: after.mergeSeconds - before.mergeSeconds };
};

/**
 * Which of these events (by index) ClickHouse holds now: the benches' freshness probe. It
 * reads only the granules of the samples' ended_at span (the table's sort key starts with
 * ended_at): a probe scanning every id, 20 times a second, cost ClickHouse more CPU than the
 * inserts it measured once the table held millions of rows.
 */
async function storedIds(
  client: ReturnType<typeof createClient>,
  p: Prepared,
  indexes: readonly number[],
): Promise<Set<string>> {
  let from = Infinity;
  let to = -Infinity;
  for (const i of indexes) {
    from = Math.min(from, p.endedAtS[i]);
    to = Math.max(to, p.endedAtS[i]);
  }
  const list = indexes.map((i) => `'${p.ids[i].replace(/[\\']/g, '\\$&')}'`).join(',');
  const found = await (
    await client.query({
      query: `SELECT id FROM usage_events WHERE ended_at >= toDateTime(${from}) AND ended_at <= toDateTime(${to}) AND id IN (${list})`,
      format: 'JSONEachRow',
    })
  ).json<{ id: string }>();
  return new Set(found.map((f) => f.id));
}

/**
 * Waits until every event is queryable, sampling 1 event in 1000: its delay is the time from
 * acceptance (Kafka ack or HTTP 202) to the first poll that finds it in ClickHouse.
 */
async function untilQueryable(
  env: Record<string, string>,
  p: Prepared,
  accepted: Map<number, number>,
  t0: number,
  producing: Promise<void>,
): Promise<{ seconds: number; delays: number[]; exact: boolean }> {
  const client = createClient({ url: env.CLICKHOUSE_URL, database: env.CLICKHOUSE_DATABASE });
  const sampleIdx = [];
  for (let i = 0; i < p.ids.length; i += 1000) sampleIdx.push(i);
  const pending = new Set(sampleIdx);
  const delays: number[] = [];
  let count = 0;
  let producingDone = false;
  void producing.then(() => (producingDone = true));
  while (count < p.ids.length || pending.size > 0) {
    await new Promise((r) => setTimeout(r, 100));
    const now = Date.now();
    const ready = [...pending].filter((i) => accepted.has(i));
    if (ready.length > 0) {
      const foundIds = await storedIds(client, p, ready);
      for (const i of ready) {
        if (foundIds.has(p.ids[i])) {
          delays.push(now - accepted.get(i)!);
          pending.delete(i);
        }
      }
    }
    const [row] = await (
      await client.query({ query: 'SELECT count() AS n FROM usage_events', format: 'JSONEachRow' })
    ).json<{ n: string }>();
    count = Number(row.n);
    if (producingDone && now - t0 > 900_000) throw new Error('not all events queryable after 15 minutes');
  }
  const seconds = (Date.now() - t0) / 1000;
  // ClickHouse 18.16 makes an insert's raw part visible before its materialized view's part:
  // the rollups may trail the raw rows for a moment. Exactness is judged once they agree (or
  // after 30 s, when a difference is a real one).
  for (const until = Date.now() + 30_000; Date.now() < until;) {
    const [agree] = await (
      await client.query({
        query: 'SELECT (SELECT sum(gpu_ms) FROM usage_events) = (SELECT sum(gpu_ms) FROM usage_hourly) AS ok',
        format: 'JSONEachRow',
      })
    ).json<{ ok: number }>();
    if (Number(agree.ok) === 1) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const [tot] = await (
    await client.query({
      query: 'SELECT count() AS n, sum(gpu_ms) AS g FROM usage_events',
      format: 'JSONEachRow',
    })
  ).json<{ n: string; g: string }>();
  const [hourly] = await (
    await client.query({ query: 'SELECT sum(gpu_ms) AS g FROM usage_hourly', format: 'JSONEachRow' })
  ).json<{ g: string }>();
  await client.close();
  const exact = Number(tot.n) === p.ids.length && BigInt(tot.g) === p.gpuMs && BigInt(hourly.g) === p.gpuMs;
  return { seconds, delays: delays.sort((a, b) => a - b), exact };
}

/** The figures of one path, with peak RSS and CPU of each service process. */
function pathResult(
  p: Prepared,
  r: { seconds: number; delays: number[]; exact: boolean },
  processes: Record<string, ServiceProc>,
  cpuSeconds: Record<string, number>,
  clickhouse: ClickHouseActivity,
): PathResult {
  return {
    events: p.ids.length,
    seconds: r.seconds,
    eventsPerSecond: p.ids.length / r.seconds,
    delayP50Ms: percentile(r.delays, 50),
    delayP99Ms: percentile(r.delays, 99),
    peakRssMiB: Object.fromEntries(
      Object.entries(processes).map(([name, proc]) => [name, proc.peakRssMiB()]),
    ),
    cpuSeconds,
    clickhouse,
    exact: r.exact,
  };
}

/**
 * CPU seconds each part of the machine used during a measurement: the service processes,
 * the Kafka broker, the ClickHouse server, and this bench process (the load generator, its
 * probes included). Their sum against 2 cores × the seconds it took shows where the cores went.
 */
class CpuMeter {
  private readonly before: Record<string, number>;
  constructor(private readonly processes: Record<string, ServiceProc>) {
    this.before = this.read();
  }
  private read(): Record<string, number> {
    const stack = stackCpuSeconds();
    const self = process.cpuUsage();
    return {
      ...Object.fromEntries(Object.entries(this.processes).map(([name, proc]) => [name, proc.cpuSeconds()])),
      kafka: stack.kafka,
      clickhouse: stack.clickhouse,
      'load generator': (self.user + self.system) / 1e6,
    };
  }
  used(): Record<string, number> {
    const after = this.read();
    return Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - this.before[k]]));
  }
}

/** Waits until the consumer group has `members` members and is stable (no rebalance in the measurement). */
async function untilGroupStable(env: Record<string, string>, members: number): Promise<void> {
  const admin = kafkaFor(env).admin();
  await admin.connect();
  try {
    for (let i = 0; i < 300; i++) {
      const { groups } = await admin.describeGroups([env.KAFKA_CONSUMER_GROUP]);
      if (groups[0]?.state === 'Stable' && groups[0].members.length === members) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`consumer group not stable with ${members} members after 60 s`);
  } finally {
    await admin.disconnect();
  }
}

interface SteadyResult {
  offeredEventsPerSecond: number;
  seconds: number;
  events: number;
  delayP50Ms: number;
  delayP99Ms: number;
  delayMaxMs: number;
  samples: number;
  peakRssMiB: Record<string, number>;
  exact: boolean;
}

/**
 * Freshness at steady load: agents offer `rate` events/s (records every 100 ms) for the span
 * `p` covers; 1 event in 100 is sampled, and its delay is from its Kafka acknowledgement to
 * the first poll (every 50 ms) that finds it in ClickHouse — so a figure here is at most
 * ~60 ms worse than the truth, never better.
 */
async function steadyPath(p: Prepared, rate: number): Promise<SteadyResult> {
  const env = await benchEnv('steady');
  const consumer = await new ServiceProc(env, 'consumer').start();
  await untilGroupStable(env, 1);
  const kafka = kafkaFor(env);
  const topic = `${env.KAFKA_TOPIC_PREFIX}usage.events.v1`;
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const accepted = new Map<number, number>();
  const SAMPLE = 100;
  const t0 = Date.now();
  let next = 0;
  let sent = 0;
  const producing = (async () => {
    for (let tick = 1; next < p.records.length; tick++) {
      // The events due by this tick at the offered rate, sent as the records that hold them.
      const due = Math.floor((rate * tick) / 10);
      const batch: PackedRecord[] = [];
      while (next < p.records.length && sent < due) {
        batch.push(p.records[next]);
        sent += p.records[next++].indexes.length;
      }
      if (batch.length > 0) {
        const timestamp = String(Date.now());
        await producer.send({
          topic,
          acks: -1,
          messages: batch.map((r) => ({ key: r.key, value: r.value, timestamp })),
        });
        const at = Date.now();
        for (const r of batch) for (const i of r.indexes) if (i % SAMPLE === 0) accepted.set(i, at);
      }
      const wait = t0 + tick * 100 - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  })();
  const client = createClient({ url: env.CLICKHOUSE_URL, database: env.CLICKHOUSE_DATABASE });
  const pending = new Set<number>();
  const delays: number[] = [];
  let producingDone = false;
  void producing.then(() => (producingDone = true));
  while (!producingDone || pending.size > 0) {
    await new Promise((r) => setTimeout(r, 50));
    for (const i of accepted.keys()) if (!delays[i] && !pending.has(i)) pending.add(i);
    const ready = [...pending];
    if (ready.length === 0) {
      if (producingDone) break;
      continue;
    }
    const now = Date.now();
    const ids = await storedIds(client, p, ready);
    for (const i of ready)
      if (ids.has(p.ids[i])) {
        delays[i] = Math.max(1, now - accepted.get(i)!);
        pending.delete(i);
      }
    if (Date.now() - t0 > 600_000)
      throw new Error('steady load: not all sampled events queryable after 10 minutes');
  }
  await producing;
  const seconds = (Date.now() - t0) / 1000;
  await producer.disconnect();
  const r = await untilQueryable(env, p, accepted, t0, Promise.resolve());
  await client.close();
  const sorted = delays.filter((d) => d !== undefined).sort((a, b) => a - b);
  const result: SteadyResult = {
    offeredEventsPerSecond: rate,
    seconds,
    events: p.values.length,
    delayP50Ms: percentile(sorted, 50),
    delayP99Ms: percentile(sorted, 99),
    delayMaxMs: sorted[sorted.length - 1],
    samples: sorted.length,
    peakRssMiB: { consumer: consumer.peakRssMiB() },
    exact: r.exact,
  };
  await consumer.stop();
  await dropBenchEnv(env);
  return result;
}

/** Agents → Kafka → `consumers` consumer processes in one group → ClickHouse. */
async function kafkaPath(p: Prepared, consumers = 1): Promise<PathResult> {
  const env = await benchEnv('kpath');
  const processes: Record<string, ServiceProc> = {};
  for (let i = 1; i <= consumers; i++)
    processes[consumers === 1 ? 'consumer' : `consumer ${i}`] = await new ServiceProc(
      env,
      'consumer',
    ).start();
  await untilGroupStable(env, consumers);
  const kafka = kafkaFor(env);
  const accepted = new Map<number, number>();
  const cpu = new CpuMeter(processes);
  const counters = await clickhouseCounters(env);
  const t0 = Date.now();
  const producing = produceAll(kafka, `${env.KAFKA_TOPIC_PREFIX}usage.events.v1`, p, (records, at) => {
    for (const r of records) for (const i of r.indexes) if (i % 1000 === 0) accepted.set(i, at);
  });
  const r = await untilQueryable(env, p, accepted, t0, producing);
  await producing;
  const result = pathResult(p, r, processes, cpu.used(), await activitySince(env, counters));
  for (const proc of Object.values(processes)) await proc.stop();
  await dropBenchEnv(env);
  return result;
}

async function httpPath(p: Prepared): Promise<PathResult> {
  const env = await benchEnv('hpath');
  const api = await new ServiceProc(env, 'api').start();
  const consumer = await new ServiceProc(env, 'consumer').start();
  await untilGroupStable(env, 1);
  const accepted = new Map<number, number>();
  const cpu = new CpuMeter({ api, consumer });
  const counters = await clickhouseCounters(env);
  const CONCURRENCY = 8;
  let next = 0;
  const t0 = Date.now();
  const producing = Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < p.values.length) {
        const from = next;
        const to = Math.min(from + 1000, p.values.length);
        next = to;
        const body = `[${p.values.slice(from, to).join(',')}]`;
        const res = await fetch(`http://127.0.0.1:${api.port}/v1/events`, {
          method: 'POST',
          headers: { authorization: `Bearer ${AGENT_TOKEN}`, 'content-type': 'application/json' },
          body,
        });
        const answer = (await res.json()) as { accepted: number };
        if (res.status !== 202 || answer.accepted !== to - from)
          throw new Error(`HTTP ${res.status}: ${JSON.stringify(answer).slice(0, 200)}`);
        const at = Date.now();
        for (let i = from; i < to; i++) if (i % 1000 === 0) accepted.set(i, at);
      }
    }),
  ).then(() => undefined);
  const r = await untilQueryable(env, p, accepted, t0, producing);
  await producing;
  const result = pathResult(p, r, { api, consumer }, cpu.used(), await activitySince(env, counters));
  await api.stop();
  await consumer.stop();
  await dropBenchEnv(env);
  return result;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

const RUNS = arg('--runs', 3);
/** Freshness is measured at a fixed offered rate for this long. */
const STEADY_SECONDS = 60;
/**
 * `--only kafka|kafka2|http|steady|anchor|clickhouse`: that measurement alone, no BENCHMARKS.md
 * update — for profiling. `kafka2`: the Kafka path with two consumer processes.
 */
const ONLY = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;

/** The run whose events/s is the median (its other figures travel with it). */
function medianRun<T extends { eventsPerSecond: number }>(runs: T[]): T {
  return [...runs].sort((a, b) => a.eventsPerSecond - b.eventsPerSecond)[Math.floor(runs.length / 2)];
}

const describePath = (name: string, r: PathResult) =>
  `${name}: ${fmt(r.eventsPerSecond)} events/s, exact=${r.exact}, p50/p99 ${r.delayP50Ms}/${r.delayP99Ms} ms, ` +
  `RSS ${JSON.stringify(r.peakRssMiB)}, ClickHouse ${JSON.stringify(r.clickhouse)}, CPU s ${JSON.stringify(
    Object.fromEntries(Object.entries(r.cpuSeconds).map(([k, v]) => [k, Number(v.toFixed(2))])),
  )}`;

async function main() {
  log(
    `preparing ${N} events for ${WORKSPACES} workspaces, all 9 GPU types; ${RUNS} runs of each measurement`,
  );
  const p = prepare(N);
  const ph = HTTP_N === N ? p : prepare(HTTP_N);
  if (ONLY !== undefined) {
    if (ONLY === 'anchor') log(`Kafka engine anchor: ${fmt(await kafkaEngineAnchor(p))} rows/s`);
    else if (ONLY === 'clickhouse') log(`ceiling C: ${JSON.stringify(await clickhouseCeiling(p))}`);
    else if (ONLY === 'steady') {
      const rate = arg('--rate', 20_000);
      const r = await steadyPath(prepare(rate * STEADY_SECONDS), rate);
      log(`steady ${fmt(rate)}/s: ${JSON.stringify(r)}`);
    } else if (ONLY === 'http') log(describePath('http', await httpPath(ph)));
    else log(describePath(ONLY, await kafkaPath(p, ONLY === 'kafka2' ? 2 : 1)));
    return;
  }
  const chRuns: ClickHouseCeiling[] = [];
  const kRuns: number[] = [];
  const anchorRuns: number[] = [];
  const kafkaRuns: PathResult[] = [];
  const kafka2Runs: PathResult[] = [];
  const httpRuns: PathResult[] = [];
  for (let run = 1; run <= RUNS; run++) {
    log(`run ${run}/${RUNS}: ceiling C (ClickHouse inserts of pre-encoded rows)`);
    const c = await clickhouseCeiling(p);
    chRuns.push(c);
    log(
      `  ${JSON.stringify(Object.fromEntries(Object.entries(c).map(([k, v]) => [k, Math.round(v)])))} rows/s`,
    );
    log(`run ${run}/${RUNS}: ceiling K (kafkajs produce + consume + JSON.parse of the same records)`);
    kRuns.push(await kafkaCeiling(p));
    log(`  ${fmt(kRuns[kRuns.length - 1])} events/s`);
    log(`run ${run}/${RUNS}: anchor (ClickHouse's Kafka table engine, flat JSON records)`);
    anchorRuns.push(await kafkaEngineAnchor(p));
    log(`  ${fmt(anchorRuns[anchorRuns.length - 1])} rows/s`);
    log(`run ${run}/${RUNS}: pipeline via Kafka, one consumer process`);
    kafkaRuns.push(await kafkaPath(p, 1));
    log(`  ${describePath('kafka', kafkaRuns[kafkaRuns.length - 1])}`);
    log(`run ${run}/${RUNS}: pipeline via Kafka, two consumer processes in one group`);
    kafka2Runs.push(await kafkaPath(p, 2));
    log(`  ${describePath('kafka2', kafka2Runs[kafka2Runs.length - 1])}`);
    log(`run ${run}/${RUNS}: pipeline via HTTP`);
    httpRuns.push(await httpPath(ph));
    log(`  ${describePath('http', httpRuns[httpRuns.length - 1])}`);
  }
  // Freshness at steady load: half the median Kafka path rate, for a minute, 3 runs.
  const steadyRate = Math.round(median(kafkaRuns.map((r) => r.eventsPerSecond)) / 2 / 1000) * 1000;
  const steadyEvents = prepare(steadyRate * STEADY_SECONDS);
  const steadyRuns: SteadyResult[] = [];
  for (let run = 1; run <= RUNS; run++) {
    log(`run ${run}/${RUNS}: steady load, ${fmt(steadyRate)} events/s for ${STEADY_SECONDS} s`);
    steadyRuns.push(await steadyPath(steadyEvents, steadyRate));
    const last = steadyRuns[steadyRuns.length - 1];
    log(`  p50 ${last.delayP50Ms} ms, p99 ${last.delayP99Ms} ms, exact=${last.exact}`);
  }
  const steady = [...steadyRuns].sort((a, b) => a.delayP99Ms - b.delayP99Ms)[
    Math.floor(steadyRuns.length / 2)
  ];
  const ch = (k: keyof ClickHouseCeiling) => chRuns.map((c) => c[k]);
  const chCeiling = median(ch('rowBinary'));
  const kCeiling = median(kRuns);
  const lowerCeiling = Math.min(chCeiling, kCeiling);
  const row = (runs: PathResult[]): PathRow => ({
    ...medianRun(runs),
    ratioToLowerCeiling: medianRun(runs).eventsPerSecond / lowerCeiling,
    allRunsEventsPerSecond: runs.map((r) => r.eventsPerSecond),
    allExact: runs.every((r) => r.exact),
  });
  const result: IngestBenchResult = {
    date: new Date().toISOString(),
    machine: {
      cores: cpus().length,
      cpu: cpus()[0]?.model,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
    },
    workspaces: WORKSPACES,
    runs: RUNS,
    eventsPerRecord: eventsPerRecord(p),
    ceilings: {
      kafkaProduceConsumePerSecond: kCeiling,
      clickhouseRowBinaryRowsPerSecond: chCeiling,
      clickhouseRowBinaryWithoutViewRowsPerSecond: median(ch('rowBinaryNoView')),
      clickhouseTsvRowsPerSecond: median(ch('tsv')),
      nodeEncodeRowBinaryRowsPerSecond: median(ch('encodeRowBinary')),
      nodeEncodeTsvRowsPerSecond: median(ch('encodeTsv')),
      clickhouseKafkaEnginePerSecond: median(anchorRuns),
      lower: lowerCeiling,
      allRuns: { clickhouse: chRuns, kafka: kRuns, kafkaEngine: anchorRuns },
    },
    viaKafka: row(kafkaRuns),
    viaKafkaTwoConsumers: row(kafka2Runs),
    viaHttp: row(httpRuns),
    steady: {
      ...steady,
      allRunsP99Ms: steadyRuns.map((r) => r.delayP99Ms),
      allExact: steadyRuns.every((r) => r.exact),
    },
  };
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  const file = join(ROOT, 'bench', 'results', `ingest-${result.date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(result, null, 2));
  process.stdout.write(`${JSON.stringify(result, null, 2)}\nwritten to ${file}\n`);
  updateBenchmarksMd(result);
}

type PathRow = PathResult & {
  ratioToLowerCeiling: number;
  allRunsEventsPerSecond: number[];
  allExact: boolean;
};

interface IngestBenchResult {
  date: string;
  machine: { cores: number; cpu?: string; memoryGiB: number; node: string };
  workspaces: number;
  runs: number;
  eventsPerRecord: number;
  ceilings: {
    kafkaProduceConsumePerSecond: number;
    clickhouseRowBinaryRowsPerSecond: number;
    clickhouseRowBinaryWithoutViewRowsPerSecond: number;
    clickhouseTsvRowsPerSecond: number;
    nodeEncodeRowBinaryRowsPerSecond: number;
    nodeEncodeTsvRowsPerSecond: number;
    clickhouseKafkaEnginePerSecond: number;
    lower: number;
    allRuns: { clickhouse: ClickHouseCeiling[]; kafka: number[]; kafkaEngine: number[] };
  };
  viaKafka: PathRow;
  viaKafkaTwoConsumers: PathRow;
  viaHttp: PathRow;
  steady: SteadyResult & { allRunsP99Ms: number[]; allExact: boolean };
}

function updateBenchmarksMd(r: IngestBenchResult) {
  const path = join(ROOT, 'BENCHMARKS.md');
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmarks\n';
  const range = (xs: number[]) => `${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}`;
  const chRange = (k: keyof ClickHouseCeiling) => range(r.ceilings.allRuns.clickhouse.map((c) => c[k]));
  const row = (name: string, x: PathRow, target: string) =>
    `| ${name} | ${fmt(x.events)} | ${fmt(x.eventsPerSecond)} (${range(x.allRunsEventsPerSecond)}) | ${(x.ratioToLowerCeiling * 100).toFixed(0)} % | ${fmt(x.delayP50Ms)} / ${fmt(x.delayP99Ms)} | ${Object.entries(
      x.peakRssMiB,
    )
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')} | ${x.allExact ? 'yes, every run' : 'NO'} | ${target} |`;
  // CPU seconds per 100,000 events of each part, and the rate two cores allow at that cost.
  const parts = ['consumer', 'consumer 1', 'consumer 2', 'api', 'kafka', 'clickhouse', 'load generator'];
  const cpuRow = (name: string, x: PathRow) => {
    const per = (k: string) =>
      x.cpuSeconds[k] === undefined ? '' : ((x.cpuSeconds[k] / x.events) * 1e5).toFixed(2);
    const total = Object.values(x.cpuSeconds).reduce((a, b) => a + b, 0);
    const busy = total / (2 * x.seconds);
    return `| ${name} | ${parts.map(per).join(' | ')} | ${((total / x.events) * 1e5).toFixed(2)} | ${(busy * 100).toFixed(0)} % | ${fmt((2 * x.events) / total)} | ${x.clickhouse.inserts} / ${x.clickhouse.mergeSeconds.toFixed(2)} s |`;
  };
  const section = [
    '<!-- bench:ingest:start -->',
    `Last run: ${r.date}, ${r.machine.cores} cores (${r.machine.cpu}), ${r.machine.memoryGiB} GiB, Node ${r.machine.node}; Kafka, ClickHouse, the service and the load generator all on this machine. ${r.workspaces} workspaces, 20 agent sources, all 9 GPU types; Kafka records hold one source's events, ${r.eventsPerRecord.toFixed(0)} on average (each agent request is a 2,000-event window packed by source). Medians of ${r.runs} runs (the path rows show the median run).`,
    '',
    '| ceiling (same records / rows) | rate |',
    '| --- | --- |',
    `| kafkajs produce + consume + JSON.parse of the same records, no other processing | ${fmt(r.ceilings.kafkaProduceConsumePerSecond)} events/s (${range(r.ceilings.allRuns.kafka)}) |`,
    `| ClickHouse itself: pre-encoded RowBinary (the consumer's format) into usage_events, hourly view included, 20k rows an insert, one after another | ${fmt(r.ceilings.clickhouseRowBinaryRowsPerSecond)} rows/s (${chRange('rowBinary')}) |`,
    `| the same into a copy of usage_events without the hourly view (what the view, its ARRAY JOIN and second table cost) | ${fmt(r.ceilings.clickhouseRowBinaryWithoutViewRowsPerSecond)} rows/s (${chRange('rowBinaryNoView')}) |`,
    `| the same rows as TabSeparated (the consumer's format before), view included | ${fmt(r.ceilings.clickhouseTsvRowsPerSecond)} rows/s (${chRange('tsv')}) |`,
    `| Node alone: encoding the rows as RowBinary (the consumer's encodeUsageEventRows) | ${fmt(r.ceilings.nodeEncodeRowBinaryRowsPerSecond)} rows/s (${chRange('encodeRowBinary')}) |`,
    `| Node alone: encoding the same rows as TabSeparated | ${fmt(r.ceilings.nodeEncodeTsvRowsPerSecond)} rows/s (${chRange('encodeTsv')}) |`,
    `| anchor: ClickHouse's own Kafka table engine + materialized view into usage_events, the same events as flat JSONEachRow records, default engine settings, no validation or dedupe | ${fmt(r.ceilings.clickhouseKafkaEnginePerSecond)} rows/s (${range(r.ceilings.allRuns.kafkaEngine)}) |`,
    '',
    `Ratios: the Kafka path is ${((r.viaKafka.eventsPerSecond / r.ceilings.kafkaProduceConsumePerSecond) * 100).toFixed(0)} % of the kafkajs ceiling, ${((r.viaKafka.eventsPerSecond / r.ceilings.clickhouseRowBinaryRowsPerSecond) * 100).toFixed(0)} % of ClickHouse's own insert rate, and ${(r.viaKafka.eventsPerSecond / r.ceilings.clickhouseKafkaEnginePerSecond).toFixed(2)}× the Kafka table engine.`,
    '',
    '| path | events | sustained events/s until all queryable, median (min–max) | of lower ceiling | delay acceptance → queryable p50 / p99 (ms) | peak RSS (MiB) | totals exact | target |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    row('agents → Kafka → consumer → ClickHouse', r.viaKafka, '≥ 100,000/s'),
    row('the same, two consumer processes in one group', r.viaKafkaTwoConsumers, '—'),
    row('POST /v1/events → Kafka → consumer → ClickHouse', r.viaHttp, '≥ 50,000/s'),
    '',
    "Where the two cores went in the median run of each path: CPU seconds per 100,000 events of each process during the measurement (from /proc; the load generator is the bench process: the producing agents or HTTP clients, and its probes), the machine busy share (their sum over 2 cores × the run's seconds), and the rate two cores would allow at that cost if nothing else ran:",
    '',
    `| path | ${parts.join(' | ')} | total | machine busy | events/s 2 cores allow | ClickHouse inserts / time in merges |`,
    `| --- | ${parts.map(() => '---').join(' | ')} | --- | --- | --- | --- |`,
    cpuRow('Kafka path, 1 consumer', r.viaKafka),
    cpuRow('Kafka path, 2 consumers', r.viaKafkaTwoConsumers),
    cpuRow('HTTP path', r.viaHttp),
    '',
    `Freshness at steady load (agents → Kafka → consumer → ClickHouse): ${fmt(r.steady.offeredEventsPerSecond)} events/s offered (half the median rate above) for ${STEADY_SECONDS} s, 1 event in 100 sampled, polled every 50 ms: acceptance → queryable **p50 ${fmt(r.steady.delayP50Ms)} ms, p99 ${fmt(r.steady.delayP99Ms)} ms** (max ${fmt(r.steady.delayMaxMs)} ms; p99 of the 3 runs ${r.steady.allRunsP99Ms.map(fmt).join(', ')}; the median run by p99 shown), totals ${r.steady.allExact ? 'exact in every run' : 'NOT exact'}; consumer peak RSS ${r.steady.peakRssMiB.consumer} MiB. Target p50 < 500 ms, p99 < 2,000 ms.`,
    '<!-- bench:ingest:end -->',
  ].join('\n');
  const next = /<!-- bench:ingest:start -->[\s\S]*<!-- bench:ingest:end -->/.test(text)
    ? text.replace(/<!-- bench:ingest:start -->[\s\S]*<!-- bench:ingest:end -->/, section)
    : `${text.trimEnd()}\n\n## Ingest (npm run bench:ingest)\n\n${section}\n`;
  writeFileSync(path, next);
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`${(e as Error).stack}\n`);
    process.exit(1);
  },
);
