import { randomBytes } from 'node:crypto';
import { chReader } from './support/clickhouse';
import { api, postEvents } from './support/http';
import {
  createPlannedWorkspaces,
  LOCALSTRIPE_BILLING_ENV,
  LOCALSTRIPE_URL,
  monthBack,
  runInvoiceMonth,
  stripeAt,
  usageEvents,
} from './support/billing';
import { centsToString, OracleEvent, PLANS, toCents, oracleListInvoice } from './support/invoice-oracle';
import { testKafka } from './support/kafka';
import { ServiceProcess } from './support/service-process';
import { ADMIN_KEY, isolatedEnv } from './support/test-env';

interface Difference {
  check: string;
  workspace_id?: string;
  invoice_id?: string;
  amount?: string;
  detail: string;
}

/**
 * GET /v1/reconciliation against the real stack: clean after a month is invoiced and pushed;
 * then each kind of difference planted on purpose is reported, on the right workspace, and
 * nothing else is.
 */
describe('reconciliation: events vs ClickHouse vs invoices vs Stripe', () => {
  const tag = randomBytes(3).toString('hex');
  const [a, b, c] = ['a', 'b', 'c'].map((x) => `rc${tag}-${x}`);
  const month = monthBack(2);
  let svc: ServiceProcess;
  let ch: ReturnType<typeof chReader>;
  let kafka: ReturnType<typeof testKafka>;
  let stored = 0;
  /** Every event of the month as the oracle reads it (what each workspace used). */
  const oracleEvents: OracleEvent[] = [];
  /** The month's invoice for a workspace by the oracle: its plan, list prices, these events. */
  const oracleMonth = (ws: string, events: readonly OracleEvent[]) =>
    oracleListInvoice(events, ws, month.start, month.end, ws === a ? PLANS.team : PLANS.starter);

  const reconcile = async (period: string, stripe = true) => {
    const r = await api(svc.url, 'GET', `/v1/reconciliation?period=${period}&stripe=${stripe}`, ADMIN_KEY);
    expect(r.status).toBe(200);
    return r.body as { ok: boolean; differences: Difference[]; [k: string]: unknown };
  };
  const waitStored = async (n: number) => {
    const deadline = Date.now() + 60_000;
    while ((await ch.totals()).hourlyEvents !== BigInt(n)) {
      if (Date.now() > deadline) throw new Error(`not all ${n} events stored`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };

  beforeAll(async () => {
    // Last month is finalized by the run below whatever the day: no grace hours.
    const env = await isolatedEnv('reconcile', { ...LOCALSTRIPE_BILLING_ENV, INVOICE_GRACE_HOURS: '0' });
    svc = await new ServiceProcess('reconcile', env, 'all').start();
    ch = chReader(env);
    kafka = testKafka(env);
    await createPlannedWorkspaces(svc.url, [a, b, c], (i) => (i === 0 ? 'team' : 'starter'));
    const { events, oracle } = usageEvents({
      workspaces: [a, b, c],
      perWorkspace: 30,
      fromMs: month.start,
      toMs: month.end,
      seed: 71,
      idPrefix: tag,
    });
    oracleEvents.push(...oracle);
    await postEvents(svc.url, events);
    await kafka.produce(kafka.topic('usage.events.v1'), [{ key: 'x', value: 'not an event' }]);
    stored = events.length;
    await waitStored(stored);
    const deadline = Date.now() + 60_000;
    while ((await kafka.messageCount(kafka.topic('usage.events.dlq.v1'))) < 1) {
      if (Date.now() > deadline) throw new Error('the invalid message was not dead-lettered');
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(await runInvoiceMonth(svc.url, month.period)).toMatchObject({
      status: 'completed',
      counts: { pushed: 3 },
    });
  });

  afterAll(async () => {
    await svc?.kill();
    await ch?.close();
    await kafka?.close();
  });

  it('a month invoiced and pushed reconciles with no difference', async () => {
    // The consumer commits its offsets just after it stores a batch: wait for the commit.
    let report = await reconcile(month.period);
    const deadline = Date.now() + 30_000;
    while (
      (report.kafka as { usage_consumer_lag: string }).usage_consumer_lag !== '0' &&
      Date.now() < deadline
    ) {
      await new Promise((r) => setTimeout(r, 250));
      report = await reconcile(month.period);
    }
    expect(report.differences).toEqual([]);
    expect(report).toMatchObject({
      ok: true,
      kafka: { usage_consumer_lag: '0', dead_lettered: '1' },
      clickhouse: { duplicate_events: 0, rollup_mismatches: 0 },
      invoices: { closed: true, count: 3, finalized: 3, pushed: 3, unbilled_workspaces: 0 },
      stripe: { checked: 3, skipped: false },
    });
  });

  it('reports late usage, a rollup that disagrees, and a Stripe item left over — each on its workspace', async () => {
    // Late usage for a: billed by the next run as adjustments; until then, reported.
    const late = usageEvents({
      workspaces: [a],
      perWorkspace: 2,
      fromMs: month.start,
      toMs: month.end,
      seed: 72,
      idPrefix: `late${tag}`,
    });
    await postEvents(svc.url, late.events);
    stored += late.events.length;
    await waitStored(stored);
    // A rollup row for c that no raw event explains.
    await ch.command(
      `INSERT INTO usage_hourly (workspace_id, hour, gpu_type, app_id, function_id, region, gpu_ms, cpu_millicore_ms, memory_mib_ms, events)
       VALUES ('${c}', toDateTime(${month.start / 1000 + 3600}), 'T4', 'app', 'fn', 'us-east', 3600000, 0, 0, 0)`,
    );
    // An invoice item of b's invoice that is on no invoice in Stripe.
    const stripe = stripeAt(LOCALSTRIPE_URL);
    const invoiceB = (await api(svc.url, 'GET', `/v1/invoices/inv_${month.period}_${b}`, ADMIN_KEY)).body;
    await stripe.invoiceItems.create({
      customer: invoiceB.stripe.customer_id,
      amount: 123,
      currency: 'usd',
      description: 'stray',
      metadata: { gpumeter_invoice_id: invoiceB.id, gpumeter_line_id: `${invoiceB.id}:stray` },
    });

    const report = await reconcile(month.period);
    expect(report.ok).toBe(false);
    const found = report.differences.map((d) => [d.check, d.workspace_id]).sort();
    expect(found).toEqual(
      [
        ['clickhouse.rollup_vs_raw', c],
        ['invoices.unbilled_usage', a],
        ['invoices.unbilled_usage', c], // the planted rollup is usage too, as far as rating can tell
        ['stripe.items_left_over', b],
      ].sort(),
    );
    expect(report.differences.find((d) => d.check === 'stripe.items_left_over')!.detail).toContain(':stray');

    // What is unbilled, by the oracle: the month as it is now (a's late events; for c, the
    // planted row, rated like an hour of one T4 with no CPU or memory) less the month as billed,
    // line by line. The report says it, and the next month's run bills it, to the cent.
    const planted: OracleEvent = {
      subject: c,
      gpu_type: 'T4',
      gpu_count: 1,
      started_ms: month.start + 3_600_000,
      ended_ms: month.start + 7_200_000,
      cpu_millicores: 0,
      memory_mib: 0,
    };
    const owed = new Map<string, Map<string, bigint>>();
    for (const ws of [a, c]) {
      const billed = oracleMonth(ws, oracleEvents).lines;
      const now = oracleMonth(ws, [...oracleEvents, ...late.oracle, planted]).lines;
      const diff = new Map<string, bigint>();
      for (const key of new Set([...billed.keys(), ...now.keys()])) {
        const d = (now.get(key) ?? 0n) - (billed.get(key) ?? 0n);
        if (d !== 0n) diff.set(`adjustment:${month.period}:${key}`, d);
      }
      owed.set(ws, diff);
    }
    const sum = (m: Map<string, bigint>) => [...m.values()].reduce((x, y) => x + y, 0n);
    expect(
      report.differences
        .filter((d) => d.check === 'invoices.unbilled_usage')
        .map((d) => [d.workspace_id, d.amount])
        .sort(),
    ).toEqual([...owed].map(([ws, m]) => [ws, centsToString(sum(m))]).sort());
    expect(owed.get(c)!.size).toBeGreaterThan(0);
    const next = monthBack(1);
    expect((await runInvoiceMonth(svc.url, next.period)).status).toBe('completed');
    for (const [ws, want] of owed) {
      const inv = (await api(svc.url, 'GET', `/v1/invoices/inv_${next.period}_${ws}`, ADMIN_KEY)).body;
      const adjusted = new Map<string, bigint>(
        inv.lines
          .filter((l: { kind: string }) => l.kind === 'adjustment')
          .map((l: { key: string; amount: string }) => [l.key, toCents(l.amount)]),
      );
      expect([ws, adjusted]).toEqual([ws, want]);
    }
    const after = await reconcile(month.period);
    expect(after.differences.map((d) => [d.check, d.workspace_id]).sort()).toEqual(
      [
        ['clickhouse.rollup_vs_raw', c],
        ['stripe.items_left_over', b],
      ].sort(),
    );
    // And the open month, which looks back at both invoiced months, adjusts nothing: a later
    // month's own lines are never counted as billed for an earlier one.
    const upcoming = await api(svc.url, 'GET', `/v1/invoices/upcoming?workspace_id=${a}`, ADMIN_KEY);
    expect(upcoming.status).toBe(200);
    expect(upcoming.body.lines.filter((l: { kind: string }) => l.kind === 'adjustment')).toEqual([]);
  });

  it('an open month: usage not drafted yet is reported; operator only; a bad period is a 400', async () => {
    const open = monthBack(0);
    const now = Date.now();
    const recent = usageEvents({
      workspaces: [b],
      perWorkspace: 1,
      fromMs: Math.max(open.start, now - 3 * 3_600_000),
      toMs: now - 60_000,
      seed: 73,
      idPrefix: `open${tag}`,
    });
    await postEvents(svc.url, recent.events);
    stored += recent.events.length;
    await waitStored(stored);
    const report = await reconcile(open.period, false);
    expect(
      report.differences.filter((d) => d.check === 'invoices.not_drafted').map((d) => d.workspace_id),
    ).toContain(b);
    expect(report).toMatchObject({ invoices: { closed: false }, stripe: { skipped: true } });

    const key = (
      await api(svc.url, 'POST', '/v1/workspaces', ADMIN_KEY, {
        id: `rc${tag}-k`,
        name: 'k',
        email: 'k@x.test',
      })
    ).body.api_key;
    expect((await api(svc.url, 'GET', `/v1/reconciliation?period=${month.period}`, key)).status).toBe(403);
    const bad = await api(svc.url, 'GET', '/v1/reconciliation?period=2026-13', ADMIN_KEY);
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0].field).toBe('period');
  });
});
