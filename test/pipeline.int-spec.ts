import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { chReader, stored } from './support/clickhouse';
import { KafkaEventSender } from '../src/agent/event-sender';
import { api, createWorkspace, postEvents, usageGpuMs } from './support/http';
import { ServiceProcess } from './support/service-process';
import { ADMIN_KEY, AGENT_TOKEN, isolatedEnv } from './support/test-env';
import { generateEvents, sum, waitFor } from './support/workload';

/**
 * The pipeline end to end on the real local Kafka and ClickHouse:
 * POST /v1/events → usage.events.v1 → consumer → ClickHouse → GET /v1/usage.
 */
describe('pipeline: HTTP ingest to usage API', () => {
  let env: Record<string, string>;
  let apiProc: ServiceProcess;
  let consumer: ServiceProcess;
  let ch: ReturnType<typeof chReader>;
  const keys = new Map<string, string>();
  const WORKSPACES = ['ws_alpha', 'ws_beta', 'ws_gamma', 'ws_delta'];
  let generated: ReturnType<typeof generateEvents>;

  const usageTotal = (ws: string) => usageGpuMs(apiProc.url, keys.get(ws)!, generated.events);

  beforeAll(async () => {
    env = await isolatedEnv('pipeline');
    apiProc = await new ServiceProcess('pipeline-api', env, 'api').start();
    consumer = await new ServiceProcess('pipeline-consumer', env, 'consumer').start();
    ch = chReader(env);
    for (const ws of WORKSPACES) keys.set(ws, await createWorkspace(apiProc.url, ws));
    generated = generateEvents({ count: 10_000, workspaces: WORKSPACES, seed: 7 });
  });

  afterAll(async () => {
    await apiProc?.kill();
    await consumer?.kill();
    await ch?.close();
  });

  it('10,000 events posted → GET /v1/usage equals the independently computed GPU-ms of each workspace', async () => {
    expect(await postEvents(apiProc.url, generated.events)).toBe(10_000);
    const total = sum(generated.expectedGpuMs);
    await waitFor(
      'all events stored',
      () => ch.totals(),
      (t) => stored(t, 10_000n),
    );
    const t = await ch.totals();
    expect(t).toEqual({
      rawEvents: 10_000n,
      rawGpuMs: total,
      hourlyEvents: 10_000n,
      hourlyGpuMs: total,
      duplicateKeys: 0n,
    });
    for (const ws of WORKSPACES) {
      expect(await usageTotal(ws)).toBe(generated.expectedGpuMs.get(ws));
    }
  });

  it('the same events posted again change no total, raw or hourly', async () => {
    const before = await ch.totals();
    expect(await postEvents(apiProc.url, generated.events)).toBe(10_000);
    // Wait until the consumer has read the copies (they are counted as duplicates skipped).
    await waitFor(
      'copies consumed',
      () => consumer.metric('gpumeter_consumer_duplicates_skipped_total'),
      (n) => n >= 10_000,
    );
    expect(await ch.totals()).toEqual(before);
    for (const ws of WORKSPACES) expect(await usageTotal(ws)).toBe(generated.expectedGpuMs.get(ws));
  });

  it('values built to break SQL round-trip unchanged in every string field', async () => {
    const ws = 'ws_hostile';
    keys.set(ws, await createWorkspace(apiProc.url, ws));
    const hostile = [
      "'); DROP TABLE usage_events; --",
      "a\\'b",
      '\\',
      "'",
      "\\\\'",
      'ü😀\t"x"',
      'x\\nnot-a-newline',
      "' OR '1'='1",
    ];
    const end = Date.now() - 30_000;
    const events = hostile.map((h, i) => ({
      specversion: '1.0',
      id: `${h}#${i}`,
      source: `agent://${h}`,
      type: 'gpu.usage.v1',
      subject: ws,
      time: new Date(end).toISOString(),
      data: {
        container_id: `c${h}`,
        app_id: `a${h}`,
        function_id: `f${h}`,
        gpu_type: 'T4',
        gpu_count: 1,
        started_at: new Date(end - 1000).toISOString(),
        ended_at: new Date(end).toISOString(),
        region: `r${h}`,
        provider: `p${h}`,
      },
    }));
    expect(await postEvents(apiProc.url, events)).toBe(hostile.length);
    await waitFor(
      'hostile events stored',
      () => ch.totals(ws),
      (t) => stored(t, BigInt(hostile.length)),
    );
    const rows = await ch.all<Record<string, string>>(
      `SELECT id, source, container_id, app_id, function_id, region, provider FROM usage_events WHERE workspace_id = '${ws}' ORDER BY id`,
    );
    const expected = events
      .map((e) => ({
        id: e.id,
        source: e.source,
        container_id: e.data.container_id,
        app_id: e.data.app_id,
        function_id: e.data.function_id,
        region: e.data.region,
        provider: e.data.provider,
      }))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    expect(rows.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))).toEqual(expected);
    // Posting them again goes through the dedupe lookup, which puts these values into SQL.
    expect(await postEvents(apiProc.url, events)).toBe(hostile.length);
    await waitFor(
      'copies consumed',
      () => consumer.metric('gpumeter_consumer_duplicates_skipped_total'),
      (n) => n >= 10_000 + hostile.length,
    );
    expect((await ch.totals(ws)).rawEvents).toBe(BigInt(hostile.length));
    const tables = await ch.all<{ name: string }>('SHOW TABLES');
    expect(tables.map((t) => t.name)).toEqual(
      expect.arrayContaining(['usage_events', 'usage_hourly', 'workspaces']),
    );
    // Group keys come back unchanged through the usage API too.
    const r = await api(
      apiProc.url,
      'GET',
      `/v1/usage?window=month&group_by=app_id,region&from=${new Date(Math.floor((end - 7200_000) / 3_600_000) * 3_600_000).toISOString()}`,
      keys.get(ws)!,
    );
    expect(r.status).toBe(200);
    expect(r.body.rows.map((x: { app_id: string }) => x.app_id).sort()).toEqual(
      events.map((e) => e.data.app_id).sort(),
    );
  });

  it('a workspace key never sees another workspace; no key or a wrong key is 401', async () => {
    const alpha = keys.get('ws_alpha')!;
    expect((await api(apiProc.url, 'GET', '/v1/usage?workspace_id=ws_beta', alpha)).status).toBe(404);
    expect((await api(apiProc.url, 'GET', '/v1/usage?workspace_id=ws_does_not_exist', alpha)).status).toBe(
      404,
    );
    expect((await api(apiProc.url, 'GET', '/v1/workspaces/ws_beta', alpha)).status).toBe(404);
    expect((await api(apiProc.url, 'GET', '/v1/workspaces/ws_alpha', alpha)).status).toBe(200);
    const own = await api(apiProc.url, 'GET', '/v1/usage', alpha);
    expect(own.status).toBe(200);
    expect(own.body.workspace_id).toBe('ws_alpha');
    expect((await api(apiProc.url, 'GET', '/v1/usage', null)).status).toBe(401);
    expect((await api(apiProc.url, 'GET', '/v1/usage', 'gpm_ws_not-a-real-key')).status).toBe(401);
    expect((await api(apiProc.url, 'POST', '/v1/events', null, [])).status).toBe(401);
    expect(
      (await api(apiProc.url, 'POST', '/v1/workspaces', alpha, { id: 'x', name: 'x', email: 'x@x.test' }))
        .status,
    ).toBe(403);
    // The stored key is a hash, never the key itself.
    const stored = await ch.all<{ api_key_hash: string }>(
      "SELECT api_key_hash FROM workspaces WHERE id = 'ws_alpha'",
    );
    expect(stored[0].api_key_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(stored[0].api_key_hash).not.toContain(alpha);
  });

  it('a batch with good and bad events accepts the good ones and names the bad fields', async () => {
    const end = Date.now() - 10_000;
    const good = generateEvents({ count: 2, workspaces: ['ws_alpha'], seed: 99, endBeforeMs: end }).events;
    const bad = { ...good[0], id: 'bad-1', data: { ...good[0].data, gpu_count: 100 } };
    const r = await api(
      apiProc.url,
      'POST',
      '/v1/events',
      AGENT_TOKEN,
      [good[0], bad, good[1]],
      'application/cloudevents-batch+json',
    );
    expect(r.status).toBe(202);
    expect(r.body.accepted).toBe(2);
    expect(r.body.rejected).toEqual([
      { index: 1, id: 'bad-1', errors: [expect.objectContaining({ field: 'data.gpu_count' })] },
    ]);
    const none = await api(apiProc.url, 'POST', '/v1/events', AGENT_TOKEN, [bad]);
    expect(none.status).toBe(400);
    expect(none.body.rejected[0].errors[0].field).toBe('data.gpu_count');
    const single = await api(
      apiProc.url,
      'POST',
      '/v1/events',
      AGENT_TOKEN,
      { ...good[0], id: 'single' },
      'application/cloudevents+json',
    );
    expect(single.status).toBe(202);
    expect(single.body.accepted).toBe(1);
  });

  it('refuses batches over 1000 events or 1 MiB with 413, and bad JSON with 400', async () => {
    const many = generateEvents({ count: 1001, workspaces: ['ws_alpha'], seed: 5 }).events;
    expect((await api(apiProc.url, 'POST', '/v1/events', AGENT_TOKEN, many)).status).toBe(413);
    const big = [{ ...many[0], data: { ...many[0].data, pad: 'x'.repeat(1_100_000) } }];
    expect((await api(apiProc.url, 'POST', '/v1/events', AGENT_TOKEN, big)).status).toBe(413);
    expect((await api(apiProc.url, 'POST', '/v1/events', AGENT_TOKEN, '{"not json')).status).toBe(400);
    expect((await api(apiProc.url, 'POST', '/v1/events', AGENT_TOKEN, [])).status).toBe(400);
  });

  it('bad HTTP input to the usage API is a 400 naming the field', async () => {
    const alpha = keys.get('ws_alpha')!;
    const r1 = await api(apiProc.url, 'GET', '/v1/usage?window=week', alpha);
    expect(r1.status).toBe(400);
    expect(r1.body.error.details[0].field).toBe('window');
    const r2 = await api(apiProc.url, 'GET', '/v1/usage?from=2026-11-01T00:30:00Z', alpha);
    expect(r2.status).toBe(400);
    expect(r2.body.error.details[0].field).toBe('from');
    const r3 = await api(apiProc.url, 'GET', '/v1/usage?group_by=gpu_type,password', alpha);
    expect(r3.status).toBe(400);
    expect(r3.body.error.details[0].field).toBe('group_by');
    const r4 = await api(
      apiProc.url,
      'POST',
      '/v1/workspaces',
      (await import('./support/test-env')).ADMIN_KEY,
      { id: 'Bad Id', name: 'x', email: 'not-an-email' },
    );
    expect(r4.status).toBe(400);
    expect(r4.body.error.details.map((d: { field: string }) => d.field).sort()).toEqual(['email', 'id']);
  });

  it('serves OpenAPI at /docs, readiness, and Prometheus metrics', async () => {
    const operator = { headers: { authorization: `Bearer ${ADMIN_KEY}` } };
    const docs = await fetch(`${apiProc.url}/docs`, operator);
    expect(docs.status).toBe(200);
    // Without a metrics port, the operations pages are the operator's (issue 10).
    expect((await fetch(`${apiProc.url}/docs`)).status).toBe(401);
    expect((await fetch(`${apiProc.url}/metrics`)).status).toBe(401);
    expect(
      (await fetch(`${apiProc.url}/metrics`, { headers: { authorization: `Bearer ${AGENT_TOKEN}` } })).status,
    ).toBe(403);
    const spec = (await (await fetch(`${apiProc.url}/docs-json`, operator)).json()) as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining(['/v1/events', '/v1/usage', '/v1/workspaces']),
    );
    const ready = await api(apiProc.url, 'GET', '/readyz', null);
    expect(ready).toEqual({ status: 200, body: { status: 'ready', kafka: 'up', clickhouse: 'up' } });
    const metrics = await consumer.metricsText();
    for (const name of [
      'gpumeter_consumer_events_stored_total',
      'gpumeter_consumer_lag_messages',
      'gpumeter_clickhouse_insert_batch_rows_bucket',
      'gpumeter_clickhouse_insert_seconds_bucket',
      'gpumeter_dlq_messages_total',
    ]) {
      expect(metrics).toContain(name);
    }
    expect(await apiProc.metric('gpumeter_ingest_events_accepted_total')).toBeGreaterThanOrEqual(20_000);
    expect(await apiProc.metric('gpumeter_ingest_events_rejected_total')).toBeGreaterThan(0);
  });
});

describe('pipeline with KAFKA_COMPRESSION=gzip', () => {
  it('the API and the agent write gzip batches (Kafka stores a fraction of the JSON) and the consumer stores every event exactly', async () => {
    const env = await isolatedEnv('gzip', { KAFKA_COMPRESSION: 'gzip' });
    const svc = await new ServiceProcess('gzip', env, 'all').start();
    const ch = chReader(env);
    try {
      const workspaces = ['ws_gz_a', 'ws_gz_b'];
      const keys = new Map<string, string>();
      for (const ws of workspaces) keys.set(ws, await createWorkspace(svc.url, ws));
      const generated = generateEvents({ count: 10_000, workspaces, seed: 17 });
      // Half through the API, half as the worker agent writes to Kafka with KAFKA_COMPRESSION=gzip:
      // if either wrote uncompressed batches, the topic's log would hold more than a quarter of the JSON.
      expect(await postEvents(svc.url, generated.events.slice(0, 5_000))).toBe(5_000);
      const agent = new KafkaEventSender(
        { brokers: env.KAFKA_BROKERS.split(',') },
        `${env.KAFKA_TOPIC_PREFIX}usage.events.v1`,
        'test-agent-gzip',
        'gzip',
      );
      expect(await agent.send(generated.events.slice(5_000).map((e) => JSON.stringify(e)))).toEqual([]);
      await agent.close();
      await waitFor(
        'all events stored',
        () => ch.totals(),
        (t) => stored(t, 10_000n),
      );
      const total = sum(generated.expectedGpuMs);
      expect(await ch.totals()).toEqual({
        rawEvents: 10_000n,
        rawGpuMs: total,
        hourlyEvents: 10_000n,
        hourlyGpuMs: total,
        duplicateKeys: 0n,
      });
      for (const ws of workspaces)
        expect(await usageGpuMs(svc.url, keys.get(ws)!, generated.events)).toBe(
          generated.expectedGpuMs.get(ws),
        );
      // What Kafka keeps on disk for the topic: compressed batches, far below the JSON sent.
      const dataDir = join(__dirname, '..', '.local', 'kafka', 'data');
      const topic = `${env.KAFKA_TOPIC_PREFIX}usage.events.v1`;
      const onDisk = readdirSync(dataDir)
        .filter((d) => d.startsWith(`${topic}-`))
        .flatMap((d) =>
          readdirSync(join(dataDir, d))
            .filter((f) => f.endsWith('.log'))
            .map((f) => statSync(join(dataDir, d, f)).size),
        )
        .reduce((a, b) => a + b, 0);
      const json = generated.events.reduce((n, e) => n + Buffer.byteLength(JSON.stringify(e)), 0);
      expect(onDisk).toBeGreaterThan(0);
      expect(onDisk).toBeLessThan(json / 4);
    } finally {
      await svc.kill();
      await ch.close();
    }
  });
});
