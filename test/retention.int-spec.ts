import { randomBytes } from 'node:crypto';
import { createClient } from '@clickhouse/client';
import { chReader } from './support/clickhouse';
import {
  createPlannedWorkspaces,
  LOCALSTRIPE_BILLING_ENV,
  monthBack,
  runCli,
  runInvoiceMonth,
  usageEvents,
} from './support/billing';
import { api } from './support/http';
import { testKafka } from './support/kafka';
import { ServiceProcess } from './support/service-process';
import { ADMIN_KEY, isolatedEnv } from './support/test-env';
import { GeneratedEvent, waitFor } from './support/workload';

/** The local cluster `gpumeter` (stack.sh up cluster): shard 01 = ch1 + ch2, shard 02 = ch3. */
const NODES = ['http://127.0.0.1:8131', 'http://127.0.0.1:8132', 'http://127.0.0.1:8133'];

/**
 * Raw event retention (issue 14), against the real stack: a closed month old enough has its
 * raw events dropped, and every answer about it stays the same — usage by the hour across a
 * price change inside an hour, the export, reconciliation, a repeated invoice run — while a
 * copy of one of its events arriving later is dead-lettered, not counted again. On one
 * server, and on the cluster (the partition goes from every replica of every shard).
 */
describe.each([
  ['one server', {}],
  ['the cluster', { CLICKHOUSE_URL: NODES[0], CLICKHOUSE_CLUSTER: 'gpumeter' }],
])('raw event retention on %s', (where, extra: Record<string, string>) => {
  const tag = randomBytes(3).toString('hex');
  const workspaces = [`rt${tag}-a`, `rt${tag}-b`, `rt${tag}-c`];
  // Two closed months: the older one ended more than RAW_EVENT_RETENTION_DAYS (40) ago.
  const old = monthBack(3);
  const young = monthBack(2);
  let env: Record<string, string>;
  let svc: ServiceProcess;
  let ch: ReturnType<typeof chReader>;
  let kafka: ReturnType<typeof testKafka>;
  let oldEvents: GeneratedEvent[];

  /** Events as agents wrote them to Kafka back then: keyed by source, timestamped just after their end. */
  async function produceAsSent(events: GeneratedEvent[]) {
    await kafka.produce(
      kafka.topic('usage.events.v1'),
      events.map((e) => ({
        key: e.source,
        value: JSON.stringify(e),
        timestamp: String(Date.parse(e.data.ended_at as string) + 60_000),
      })),
    );
  }

  async function rawEventsEndedIn(month: { start: number; end: number }): Promise<bigint> {
    const row = await ch.one<{ n: string }>(
      `SELECT toString(count()) AS n FROM usage_events WHERE ended_at_ms >= ${month.start} AND ended_at_ms < ${month.end}`,
    );
    return BigInt(row.n);
  }

  /** Everything a reader can ask about the old month, as the API answers it. */
  async function answersAbout() {
    const span = `from=${new Date(old.start).toISOString()}&to=${new Date(old.end).toISOString()}`;
    const usage: unknown[] = [];
    for (const ws of workspaces) {
      const r = await api(
        svc.url,
        'GET',
        `/v1/usage?${span}&window=hour&group_by=gpu_type,app_id,function_id,region&workspace_id=${ws}`,
        ADMIN_KEY,
      );
      expect(r.status).toBe(200);
      usage.push(r.body);
    }
    const exported = await fetch(`${svc.url}/v1/exports/usage?${span}&format=csv`, {
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    expect(exported.status).toBe(200);
    const rec = await api(svc.url, 'GET', `/v1/reconciliation?period=${old.period}&stripe=false`, ADMIN_KEY);
    expect(rec.status).toBe(200);
    const invoices = await api(
      svc.url,
      'GET',
      `/v1/exports/invoices?period=${old.period}&format=jsonl`,
      ADMIN_KEY,
    );
    return {
      usage: JSON.stringify(usage),
      export: await exported.text(),
      reconciliation: { ok: rec.body.ok, differences: rec.body.differences, clickhouse: rec.body.clickhouse },
      invoices: JSON.stringify(invoices.body),
    };
  }

  beforeAll(async () => {
    env = await isolatedEnv(`retention${where === 'the cluster' ? 'c' : '1'}`, {
      ...LOCALSTRIPE_BILLING_ENV,
      EVENT_MAX_AGE_DAYS: '35',
      RAW_EVENT_RETENTION_DAYS: '40',
      INVOICE_GRACE_HOURS: '0',
      ...extra,
    });
    svc = await new ServiceProcess(`retention-${tag}`, env, 'all').start();
    ch = chReader(env);
    kafka = testKafka(env);
    await createPlannedWorkspaces(svc.url, workspaces, (i) => (i === 0 ? 'team' : 'starter'));
    // A price change inside an hour of the old month: that hour is rated from raw events.
    const change = await api(svc.url, 'POST', '/v1/catalog/price-changes', ADMIN_KEY, {
      effective_from: new Date(old.start + 11 * 86_400_000 + 3_600_000 * 5 + 29 * 60_000 + 7).toISOString(),
      gpu_per_second: { H100: '0.001190', A10G: '0.000351' },
    });
    expect(change.status).toBe(201);
    oldEvents = usageEvents({
      workspaces,
      perWorkspace: 400,
      fromMs: old.start,
      toMs: old.end,
      seed: 1401,
      idPrefix: `o${tag}`,
    }).events;
    // Events around the change's hour, so its pieces hold usage of every workspace.
    const aroundChange = usageEvents({
      workspaces,
      perWorkspace: 30,
      fromMs: old.start + 11 * 86_400_000 + 3_600_000 * 4,
      toMs: old.start + 11 * 86_400_000 + 3_600_000 * 7,
      seed: 1402,
      idPrefix: `c${tag}`,
    }).events;
    oldEvents.push(...aroundChange);
    const youngEvents = usageEvents({
      workspaces,
      perWorkspace: 200,
      fromMs: young.start,
      toMs: young.end - 3_600_000,
      seed: 1403,
      idPrefix: `y${tag}`,
    }).events;
    // A copy of every tenth event too, as a re-sending agent would: stored once.
    await produceAsSent([...oldEvents, ...youngEvents, ...oldEvents.filter((_, i) => i % 10 === 0)]);
    const distinct = BigInt(oldEvents.length + youngEvents.length);
    await waitFor(
      'every event stored once',
      () => ch.totals(),
      (t) => t.rawEvents === distinct && t.hourlyEvents === distinct,
      120_000,
    );
    for (const m of [old, young]) expect((await runInvoiceMonth(svc.url, m.period)).status).toBe('completed');
  }, 300_000);

  afterAll(async () => {
    await svc?.kill();
    await ch?.close();
    await kafka?.close();
    if (extra.CLICKHOUSE_CLUSTER && env) {
      const client = createClient({ url: NODES[0] });
      await client.command({
        query: `DROP DATABASE IF EXISTS ${env.CLICKHOUSE_DATABASE} ON CLUSTER gpumeter`,
      });
      await client.close();
    }
  });

  it('drops the old month’s raw events only, and every answer about the month stays byte for byte', async () => {
    const before = await answersAbout();
    expect(before.reconciliation.ok).toBe(true);
    expect(before.export.split('\n').length).toBeGreaterThan(1000);
    const youngRaw = await rawEventsEndedIn(young);
    expect(await rawEventsEndedIn(old)).toBe(BigInt(oldEvents.length));

    // A dry run says what it would do and changes nothing.
    const dry = await runCli(env, ['retention', 'run', '--dry-run']);
    expect(dry.code).toBe(0);
    const dryLines = dry.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(dryLines.map((l) => [l.period, l.outcome])).toEqual([
      [old.period, 'would-retire'],
      [young.period, 'kept'],
    ]);
    expect(await rawEventsEndedIn(old)).toBe(BigInt(oldEvents.length));

    // Another consumer group has read nothing: an event of the month could still be unread.
    const unread = await runCli({ ...env, KAFKA_CONSUMER_GROUP: `${env.KAFKA_CONSUMER_GROUP}-none` }, [
      'retention',
      'run',
    ]);
    expect(unread.code).toBe(0);
    const waiting = JSON.parse(unread.stdout.trim().split('\n')[0]);
    expect(waiting.outcome).toBe('waiting');
    expect(waiting.detail).toMatch(/has not yet read every record .* partition \d+ at 0, needs \d+/);
    expect(await rawEventsEndedIn(old)).toBe(BigInt(oldEvents.length));

    const run = await runCli(env, ['retention', 'run']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const [retired, kept] = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect([retired.period, retired.outcome, retired.events]).toEqual([
      old.period,
      'retired',
      String(oldEvents.length),
    ]);
    expect([kept.period, kept.outcome]).toEqual([young.period, 'kept']);

    expect(await rawEventsEndedIn(old)).toBe(0n);
    expect(await rawEventsEndedIn(young)).toBe(youngRaw);
    const partition = `${old.period.replace('-', '')}`;
    if (extra.CLICKHOUSE_CLUSTER) {
      // Gone from every replica of every shard, not only from the server the service talks to.
      for (const url of NODES) {
        const node = createClient({ url, database: env.CLICKHOUSE_DATABASE });
        const parts = await (
          await node.query({
            query: `SELECT toString(count()) AS n FROM system.parts WHERE database = '${env.CLICKHOUSE_DATABASE}' AND table = 'usage_events_local' AND partition = '${partition}' AND active`,
            format: 'JSONEachRow',
          })
        ).json<{ n: string }>();
        await node.close();
        expect([url, parts[0].n]).toEqual([url, '0']);
      }
    } else {
      const parts = await ch.one<{ n: string }>(
        `SELECT toString(count()) AS n FROM system.parts WHERE database = '${env.CLICKHOUSE_DATABASE}' AND table = 'usage_events' AND partition = '${partition}' AND active`,
      );
      expect(parts.n).toBe('0');
    }

    // Every answer about the month is what it was: the hours the price change cuts are read
    // from the pieces kept, reconciliation compares the rollups with the totals recorded.
    expect(await answersAbout()).toEqual(before);

    // A repeated run finds it retired; a repeated invoice run of the month changes nothing.
    const again = await runCli(env, ['retention', 'run']);
    expect(JSON.parse(again.stdout.trim().split('\n')[0])).toMatchObject({
      period: old.period,
      outcome: 'already-retired',
    });
    expect((await runInvoiceMonth(svc.url, old.period)).status).toBe('completed');
    expect(await answersAbout()).toEqual(before);
  }, 300_000);

  it('a copy of a retired month’s event, or a late one, is dead-lettered with its reason, not counted', async () => {
    const hourly = await ch.totals();
    const late = usageEvents({
      workspaces,
      perWorkspace: 1,
      fromMs: old.start,
      toMs: old.end,
      seed: 1404,
      idPrefix: `l${tag}`,
    }).events.slice(0, 1);
    await produceAsSent([oldEvents[7], ...late]);
    const dlq = await kafka.readAll(kafka.topic('usage.events.dlq.v1'), 2, 60_000);
    expect(dlq.map((m) => m.headers['error-reason'])).toEqual(['retired-period', 'retired-period']);
    expect(dlq.map((m) => JSON.parse(m.value).id).sort()).toEqual([oldEvents[7].id, late[0].id].sort());
    expect(dlq[0].headers['error-detail']).toMatch(new RegExp(`${old.period}.*raw events were dropped`));
    // The consumer moved past them (committed) and stored nothing.
    await waitFor(
      'the consumer caught up',
      () => kafka.caughtUp(kafka.topic('usage.events.v1'), env.KAFKA_CONSUMER_GROUP),
      (done) => done,
    );
    const after = await ch.totals();
    expect([after.hourlyEvents, after.hourlyGpuMs]).toEqual([hourly.hourlyEvents, hourly.hourlyGpuMs]);
    expect(await rawEventsEndedIn(old)).toBe(0n);
  }, 120_000);
});
