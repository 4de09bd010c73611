import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createClient } from '@clickhouse/client';
import { packUsageRecords } from '../src/ingestion/usage-event/usage-records';
import { chReader, projectionSnapshot, stored } from './support/clickhouse';
import { testKafka } from './support/kafka';
import {
  createPlannedWorkspaces,
  LOCALSTRIPE_BILLING_ENV,
  monthBack,
  runCli,
  runInvoiceMonth,
  usageEvents,
} from './support/billing';
import { api, createWorkspace, postEvents, usageGpuMs } from './support/http';
import { ServiceProcess } from './support/service-process';
import { ADMIN_KEY, isolatedEnv } from './support/test-env';
import { generateEvents, sum, waitFor } from './support/workload';

/** The local cluster `gpumeter` (stack.sh up cluster): shard 01 = ch1 + ch2, shard 02 = ch3. */
const NODES = { ch1: 'http://127.0.0.1:8131', ch2: 'http://127.0.0.1:8132', ch3: 'http://127.0.0.1:8133' };
const STACK = join(__dirname, '..', 'stack', 'stack.sh');

/**
 * gpumeter on a real ClickHouse cluster (issue 14): three clickhouse-server processes and
 * ZooKeeper, the service in cluster mode (CLICKHOUSE_CLUSTER=gpumeter) against ch1. One
 * cluster for the whole suite; each test's data in its own database.
 */
describe('cluster: the pipeline on 2 shards, one of them with 2 replicas', () => {
  let env: Record<string, string>;
  let svc: ServiceProcess;
  let ch: ReturnType<typeof chReader>;
  const keys = new Map<string, string>();
  const WORKSPACES = Array.from({ length: 8 }, (_, i) => `cl_ws_${i}`);
  let generated: ReturnType<typeof generateEvents>;

  /** Rows of a query run on one server alone (its local tables). */
  async function onNode<T>(node: keyof typeof NODES, query: string): Promise<T[]> {
    const client = createClient({ url: NODES[node], database: env.CLICKHOUSE_DATABASE });
    try {
      return await (await client.query({ query, format: 'JSONEachRow' })).json<T>();
    } finally {
      await client.close();
    }
  }

  /** Rows of a local table on one server, counted there alone. */
  async function localCount(node: keyof typeof NODES, table: string): Promise<bigint> {
    const [row] = await onNode<{ n: string }>(node, `SELECT toString(count()) AS n FROM ${table}_local`);
    return BigInt(row.n);
  }

  async function syncReplicas() {
    for (const node of ['ch1', 'ch2'] as const) {
      const client = createClient({
        url: NODES[node],
        database: env.CLICKHOUSE_DATABASE,
        request_timeout: 120_000,
      });
      try {
        for (const table of ['usage_events_local', 'usage_hourly_local'])
          await client.command({ query: `SYSTEM SYNC REPLICA ${table}` });
      } finally {
        await client.close();
      }
    }
  }

  beforeAll(async () => {
    env = await isolatedEnv('cluster', { CLICKHOUSE_URL: NODES.ch1, CLICKHOUSE_CLUSTER: 'gpumeter' });
    svc = await new ServiceProcess('cluster', env, 'all').start();
    ch = chReader(env);
    for (const ws of WORKSPACES) keys.set(ws, await createWorkspace(svc.url, ws));
    generated = generateEvents({ count: 10_000, workspaces: WORKSPACES, seed: 141 });
  });

  afterAll(async () => {
    await svc?.kill();
    await ch?.close();
    // Every replica of the suite's database goes (ZooKeeper's metadata with it).
    const client = createClient({ url: NODES.ch1 });
    await client.command({ query: `DROP DATABASE IF EXISTS ${env.CLICKHOUSE_DATABASE} ON CLUSTER gpumeter` });
    await client.close();
  });

  it('10,000 events: exact to the millisecond through the Distributed tables, spread over both shards, the replicas equal', async () => {
    expect(await postEvents(svc.url, generated.events)).toBe(10_000);
    const total = sum(generated.expectedGpuMs);
    await waitFor(
      'all events stored',
      () => ch.totals(),
      (t) => stored(t, 10_000n),
    );
    expect(await ch.totals()).toEqual({
      rawEvents: 10_000n,
      rawGpuMs: total,
      hourlyEvents: 10_000n,
      hourlyGpuMs: total,
      duplicateKeys: 0n,
    });
    for (const ws of WORKSPACES)
      expect(await usageGpuMs(svc.url, keys.get(ws)!, generated.events)).toBe(
        generated.expectedGpuMs.get(ws),
      );
    // Sharded by workspace: both shards hold events, every workspace on one shard only.
    await syncReplicas();
    const shard1 = await localCount('ch1', 'usage_events');
    const shard2 = await localCount('ch3', 'usage_events');
    expect(shard1).toBeGreaterThan(0n);
    expect(shard2).toBeGreaterThan(0n);
    expect(shard1 + shard2).toBe(10_000n);
    expect(await localCount('ch2', 'usage_events')).toBe(shard1);
    expect(await localCount('ch2', 'usage_hourly')).toBe(await localCount('ch1', 'usage_hourly'));
    const workspacesOn = async (node: keyof typeof NODES) =>
      (await onNode<{ workspace_id: string }>(node, 'SELECT DISTINCT workspace_id FROM usage_events_local'))
        .map((r) => r.workspace_id)
        .sort();
    const onShard1 = await workspacesOn('ch1');
    const onShard2 = await workspacesOn('ch3');
    expect([...onShard1, ...onShard2].sort()).toEqual([...WORKSPACES].sort());
  });

  it('the same events again, and a batch redelivered after a kill -9 of the consumer, count once', async () => {
    const before = await ch.totals();
    expect(await postEvents(svc.url, generated.events)).toBe(10_000);
    await waitFor(
      'copies consumed',
      () => svc.metric('gpumeter_consumer_duplicates_skipped_total'),
      (n) => n >= 10_000,
    );
    expect(await ch.totals()).toEqual(before);
    // New events, and the service killed while it stores them: what it had not committed is
    // read again by its successor.
    const more = generateEvents({ count: 5_000, workspaces: WORKSPACES, seed: 142 });
    await postEvents(svc.url, more.events);
    await svc.kill('SIGKILL');
    svc = await new ServiceProcess('cluster', env, 'all').start();
    await waitFor(
      'all events stored',
      () => ch.totals(),
      (t) => stored(t, 15_000n),
    );
    const total = sum(generated.expectedGpuMs) + sum(more.expectedGpuMs);
    expect(await ch.totals()).toEqual({
      rawEvents: 15_000n,
      rawGpuMs: total,
      hourlyEvents: 15_000n,
      hourlyGpuMs: total,
      duplicateKeys: 0n,
    });
  });

  it('a replica stopped during ingestion and started again: nothing lost, nothing doubled, the replicas agree', async () => {
    const before = await ch.totals();
    const more = generateEvents({ count: 5_000, workspaces: WORKSPACES, seed: 143 });
    const half = Math.floor(more.events.length / 2);
    await postEvents(svc.url, more.events.slice(0, half));
    execFileSync('bash', [STACK, 'down', 'ch2'], { stdio: 'ignore' });
    try {
      await postEvents(svc.url, more.events.slice(half));
      await waitFor(
        'stored while ch2 is down',
        () => ch.totals(),
        (t) => stored(t, before.rawEvents + 5_000n),
      );
    } finally {
      execFileSync('bash', [STACK, 'up', 'cluster'], { stdio: 'ignore' });
    }
    await syncReplicas();
    const total = before.rawGpuMs + sum(more.expectedGpuMs);
    expect(await ch.totals()).toEqual({
      rawEvents: before.rawEvents + 5_000n,
      rawGpuMs: total,
      hourlyEvents: before.rawEvents + 5_000n,
      hourlyGpuMs: total,
      duplicateKeys: 0n,
    });
    expect(await localCount('ch2', 'usage_events')).toBe(await localCount('ch1', 'usage_events'));
    expect(await localCount('ch2', 'usage_hourly')).toBe(await localCount('ch1', 'usage_hourly'));
  });

  it('consumers scaled out while membership changes and a replica is down: every copy counted once', async () => {
    const before = await ch.totals();
    const kafka = testKafka(env);
    const topic = kafka.topic('usage.events.v1');
    // The service's own consumer plus two more in its group; one of them SIGKILLed mid-stream
    // and replaced, so the partitions move twice while ch2 is stopped and started again.
    const consumers = [1, 2].map((n) => new ServiceProcess(`cluster-consumer-${n}`, env, 'consumer'));
    const batches = Array.from({ length: 6 }, (_, i) =>
      generateEvents({ count: 2_000, workspaces: WORKSPACES, seed: 150 + i, source: `agent://cl-rack-${i}` }),
    );
    const events = batches.flatMap((b) => b.events);
    const asRecords = (list: typeof events) =>
      packUsageRecords(list.map((e) => ({ source: e.source, json: JSON.stringify(e) }))).records.map(
        ({ key, value }) => ({ key, value }),
      );
    try {
      for (const c of consumers) await c.start();
      await kafka.produce(topic, asRecords(events.slice(0, 6_000)));
      await waitFor(
        'some stored before the kill',
        () => ch.totals(),
        (t) => t.rawEvents > before.rawEvents,
      );
      await consumers[0].kill('SIGKILL');
      execFileSync('bash', [STACK, 'down', 'ch2'], { stdio: 'ignore' });
      try {
        const replacement = new ServiceProcess('cluster-consumer-3', env, 'consumer');
        consumers.push(replacement);
        await replacement.start();
        // The rest, and copies of every fifth event: re-sent as they were, and under another
        // workspace (same source and id, so the same partition: the first copy wins).
        const copies = events.filter((_, i) => i % 5 === 0);
        const moved = copies.map((e) => ({
          ...e,
          subject: e.subject === WORKSPACES[0] ? WORKSPACES[1] : WORKSPACES[0],
        }));
        await kafka.produce(topic, asRecords([...events.slice(6_000), ...copies, ...moved]));
        await waitFor(
          'the group caught up with the topic',
          () => kafka.caughtUp(topic, env.KAFKA_CONSUMER_GROUP),
          (done) => done,
          180_000,
        );
      } finally {
        execFileSync('bash', [STACK, 'up', 'cluster'], { stdio: 'ignore' });
      }
      await syncReplicas();
      const expected = new Map<string, bigint>();
      for (const b of batches)
        for (const [ws, ms] of b.expectedGpuMs) expected.set(ws, (expected.get(ws) ?? 0n) + ms);
      const total = before.rawGpuMs + sum(expected);
      const n = before.rawEvents + 12_000n;
      expect(await ch.totals()).toEqual({
        rawEvents: n,
        rawGpuMs: total,
        hourlyEvents: n,
        hourlyGpuMs: total,
        duplicateKeys: 0n,
      });
      expect(await localCount('ch2', 'usage_events')).toBe(await localCount('ch1', 'usage_events'));
      expect(await localCount('ch2', 'usage_hourly')).toBe(await localCount('ch1', 'usage_hourly'));
    } finally {
      for (const c of consumers) await c.kill('SIGKILL');
      await kafka.close();
    }
  });
});

describe('cluster: a month invoiced, and replayed', () => {
  const tag = randomBytes(3).toString('hex');
  const workspaces = [`cm${tag}-a`, `cm${tag}-b`, `cm${tag}-c`, `cm${tag}-d`];
  const month = monthBack(1);
  const envs: Record<string, string>[] = [];
  const services: ServiceProcess[] = [];

  afterAll(async () => {
    for (const s of services) await s.kill();
    const client = createClient({ url: NODES.ch1 });
    const cluster = envs.find((e) => e.CLICKHOUSE_CLUSTER);
    if (cluster)
      for (const db of [cluster.CLICKHOUSE_DATABASE, `${cluster.CLICKHOUSE_DATABASE}_r`])
        await client.command({ query: `DROP DATABASE IF EXISTS ${db} ON CLUSTER gpumeter` });
    await client.close();
  });

  /** The same workspaces, price change and events, invoiced for last month; its documents. */
  async function invoiceMonth(name: string, extra: Record<string, string>) {
    const env = await isolatedEnv(name, { ...LOCALSTRIPE_BILLING_ENV, INVOICE_GRACE_HOURS: '0', ...extra });
    envs.push(env);
    const svc = await new ServiceProcess(name, env, 'all').start();
    services.push(svc);
    await createPlannedWorkspaces(svc.url, workspaces, (i) => (i % 2 === 0 ? 'team' : 'starter'));
    // A price change inside an hour of the month: that hour is read from the raw events.
    const change = await api(svc.url, 'POST', '/v1/catalog/price-changes', ADMIN_KEY, {
      effective_from: new Date(month.start + 9 * 86_400_000 + 17 * 60_000 + 401).toISOString(),
      gpu_per_second: { H100: '0.001210', A10G: '0.000333' },
    });
    expect(change.status).toBe(201);
    const { events } = usageEvents({
      workspaces,
      perWorkspace: 150,
      fromMs: month.start,
      toMs: month.end,
      seed: 144,
      idPrefix: `m${tag}`,
    });
    await postEvents(svc.url, events);
    const ch = chReader(env);
    try {
      await waitFor(
        'month stored',
        () => ch.totals(),
        (t) => stored(t, BigInt(events.length)),
      );
      expect((await runInvoiceMonth(svc.url, month.period)).status).toBe('completed');
      // The margin report: its raw read (every event clipped to every piece) through the Distributed table.
      const cost = await api(svc.url, 'POST', '/v1/catalog/cost-changes', ADMIN_KEY, {
        effective_from: new Date(month.start + 4 * 86_400_000 + 1_234_567).toISOString(),
        provider: 'oci',
        gpu_per_second: { H100: '0.00062' },
      });
      expect(cost.status).toBe(201);
      const margin = await api(
        svc.url,
        'GET',
        `/v1/reports/margin?period=${month.period}&group_by=gpu_type,region,provider`,
        ADMIN_KEY,
      );
      expect(margin.status).toBe(200);
      delete margin.body.as_of;
      // The sorting key and version columns named: 18.16 answers FINAL through a Distributed table only then.
      const rows = await ch.all<{ id: string; finalized: number; document: string }>(
        'SELECT workspace_id, period, id, finalized, version, document FROM invoice_documents FINAL ORDER BY id',
      );
      return {
        env,
        margin: margin.body as unknown,
        documents: rows.map((r) => {
          const doc = JSON.parse(r.document) as {
            computed_at?: string;
            events_as_of?: string;
            lines: { events?: { ingested_until?: string } }[];
          };
          // When it was computed, and the cut its lines' events were taken at, differ between two runs.
          delete doc.computed_at;
          delete doc.events_as_of;
          for (const l of doc.lines) delete l.events?.ingested_until;
          return `${r.id} ${r.finalized} ${JSON.stringify(doc)}`;
        }),
      };
    } finally {
      await ch.close();
    }
  }

  it('a month invoiced on the cluster equals the same month invoiced on one server, byte for byte; a replay on the cluster reproduces every projection', async () => {
    const single = await invoiceMonth('clmonth1', {});
    const cluster = await invoiceMonth('clmonthc', {
      CLICKHOUSE_URL: NODES.ch1,
      CLICKHOUSE_CLUSTER: 'gpumeter',
    });
    expect(single.documents).toHaveLength(workspaces.length);
    expect(cluster.documents).toEqual(single.documents);
    expect((single.margin as { rows: unknown[] }).rows.length).toBeGreaterThan(0);
    expect(cluster.margin).toEqual(single.margin);

    const live = chReader(cluster.env);
    const replayed = chReader({
      ...cluster.env,
      CLICKHOUSE_DATABASE: `${cluster.env.CLICKHOUSE_DATABASE}_r`,
    });
    try {
      const original = await projectionSnapshot(live);
      const result = await runCli(cluster.env, [
        'replay',
        '--database',
        `${cluster.env.CLICKHOUSE_DATABASE}_r`,
      ]);
      expect(result.code).toBe(0);
      expect(await projectionSnapshot(replayed)).toEqual(original);
      // The replayed database is the cluster's too: replicated tables on every server.
      const onCh3 = createClient({ url: NODES.ch3 });
      const [tables] = await (
        await onCh3.query({
          query: `SELECT toString(count()) AS n FROM system.tables WHERE database = '${cluster.env.CLICKHOUSE_DATABASE}_r' AND engine LIKE 'Replicated%'`,
          format: 'JSONEachRow',
        })
      ).json<{ n: string }>();
      await onCh3.close();
      expect(Number(tables.n)).toBeGreaterThan(15);
    } finally {
      await live.close();
      await replayed.close();
    }
  });
});
