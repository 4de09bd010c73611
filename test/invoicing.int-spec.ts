import { randomBytes } from 'node:crypto';
import { chReader } from './support/clickhouse';
import { api, postEvents } from './support/http';
import { LOCALSTRIPE_URL, monthBack, runCli, stripeAt, stripeHoldings, usageEvents } from './support/billing';
import { centsToString, oracleInvoice, OracleEvent, OracleSchedule, toCents } from './support/invoice-oracle';
import { ServiceProcess } from './support/service-process';
import { ADMIN_KEY, isolatedEnv } from './support/test-env';

const LIST = {
  gpu: {
    B200: '0.001736',
    H200: '0.001261',
    H100: '0.001097',
    'A100-80GB': '0.000694',
    'A100-40GB': '0.000583',
    L40S: '0.000542',
    A10G: '0.000306',
    L4: '0.000222',
    T4: '0.000164',
  },
  cpu: '0.0000131',
  memory: '0.00000222',
};
const PLANS = {
  starter: { feeCents: 0n, creditsCents: 3000n },
  team: { feeCents: 25000n, creditsCents: 10000n },
};

const BILLING_ENV = {
  EVENT_MAX_AGE_DAYS: '400',
  INVOICE_SCHEDULER_INTERVAL_SECONDS: '0',
  STRIPE_API_URL: LOCALSTRIPE_URL,
  STRIPE_COMPAT: 'localstripe',
  STRIPE_WEBHOOK_SECRET: 'whsec_gpumetertestsecret',
};

async function waitForStored(ch: ReturnType<typeof chReader>, expectedEvents: number): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const t = await ch.totals();
    if (t.hourlyEvents === BigInt(expectedEvents)) return;
    if (Date.now() > deadline) throw new Error(`stored ${t.hourlyEvents} of ${expectedEvents} events`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function runViaApi(svc: ServiceProcess, period: string) {
  const started = await api(svc.url, 'POST', '/v1/invoice-runs', ADMIN_KEY, { period });
  expect(started.status).toBe(202);
  const deadline = Date.now() + 180_000;
  for (;;) {
    const r = await api(svc.url, 'GET', `/v1/invoice-runs/${started.body.id}`, ADMIN_KEY);
    expect(r.status).toBe(200);
    if (r.body.status !== 'running') return r.body;
    if (Date.now() > deadline) throw new Error('invoice run did not finish');
    await new Promise((res) => setTimeout(res, 300));
  }
}

function bySubject(events: OracleEvent[]): Map<string, OracleEvent[]> {
  const m = new Map<string, OracleEvent[]>();
  for (const e of events) m.set(e.subject, [...(m.get(e.subject) ?? []), e]);
  return m;
}

describe('invoicing: a synthetic month rated exactly and pushed to Stripe once', () => {
  const tag = randomBytes(3).toString('hex');
  const workspaces = Array.from({ length: 20 }, (_, i) => `inv${tag}-${String(i).padStart(2, '0')}`);
  const planOf = (i: number) => (i % 2 === 0 ? 'team' : 'starter');
  const month = monthBack(2);
  const killMonth = monthBack(3);
  // A price change in the middle of the month, on a whole hour.
  const changeAt = month.start + 14 * 86_400_000 + 13 * 3_600_000;
  const changed = { ...LIST, gpu: { ...LIST.gpu, H100: '0.001150', T4: '0.000150' }, cpu: '0.0000140' };
  const schedule: OracleSchedule = [
    { from_ms: 0, prices: LIST },
    { from_ms: changeAt, prices: changed },
  ];
  let env: Record<string, string>;
  let svc: ServiceProcess;
  let ch: ReturnType<typeof chReader>;
  let oracleEvents: OracleEvent[] = [];
  let killEvents: OracleEvent[] = [];
  const stripe = stripeAt(LOCALSTRIPE_URL);

  beforeAll(async () => {
    env = await isolatedEnv('invoicing', BILLING_ENV);
    svc = await new ServiceProcess('invoicing', env, 'all').start();
    ch = chReader(env);
    for (const [i, ws] of workspaces.entries()) {
      const r = await api(svc.url, 'POST', '/v1/workspaces', ADMIN_KEY, {
        id: ws,
        name: `Workspace ${ws}`,
        email: `${ws}@example.test`,
        plan: planOf(i),
      });
      expect(r.status).toBe(201);
    }
    const change = await api(svc.url, 'POST', '/v1/catalog/price-changes', ADMIN_KEY, {
      effective_from: new Date(changeAt).toISOString(),
      gpu_per_second: { H100: '0.001150', T4: '0.000150' },
      cpu_per_core_second: '0.0000140',
    });
    expect(change.status).toBe(201);
    const main = usageEvents({
      workspaces,
      perWorkspace: 60,
      fromMs: month.start - 1_800_000, // some intervals start in the month before
      toMs: month.end + 1_800_000, // and some end in the next
      seed: 7,
      idPrefix: `m${tag}`,
    });
    const kill = usageEvents({
      workspaces,
      perWorkspace: 10,
      fromMs: killMonth.start,
      toMs: killMonth.end,
      seed: 8,
      idPrefix: `k${tag}`,
    });
    oracleEvents = main.oracle;
    killEvents = kill.oracle;
    await postEvents(svc.url, [...main.events, ...kill.events]);
    await waitForStored(ch, main.events.length + kill.events.length);
  });

  afterAll(async () => {
    await svc?.kill();
    await ch?.close();
  });

  it('rates every invoice of the month to the cent as an independent calculation does, and pushes it once', async () => {
    const run = await runViaApi(svc, month.period);
    expect(run).toMatchObject({ status: 'completed', finalize: true, errors: [] });
    expect(run.counts).toMatchObject({ invoices: 20, finalized: 20, pushed: 20, push_failed: 0 });

    const listed = await api(svc.url, 'GET', `/v1/invoices?period=${month.period}`, ADMIN_KEY);
    expect(listed.status).toBe(200);
    expect(listed.body.invoices).toHaveLength(20);
    const events = bySubject(oracleEvents);
    for (const [i, ws] of workspaces.entries()) {
      const inv = listed.body.invoices.find((x: { workspace_id: string }) => x.workspace_id === ws);
      const want = oracleInvoice(events.get(ws)!, schedule, month.start, month.end, PLANS[planOf(i)]);
      expect(inv.id).toBe(`inv_${month.period}_${ws}`);
      expect(inv.status).toBe('pushed');
      expect(inv.plan.plan).toBe(planOf(i));
      const got = new Map<string, string>(
        inv.lines.map((l: { key: string; amount: string }) => [l.key, l.amount]),
      );
      expect(Object.fromEntries(got)).toEqual(
        Object.fromEntries([...want.lines].map(([k, c]) => [k, centsToString(c)])),
      );
      for (const l of inv.lines) {
        expect(l.id).toBe(`inv_${month.period}_${ws}:${l.key}`);
        if (l.kind === 'gpu') {
          const ms = want.gpuMs.get(l.key.slice(4))!;
          expect(l.quantity).toBe(
            `${ms / 1000n}${ms % 1000n ? '.' + (ms % 1000n).toString().padStart(3, '0').replace(/0+$/, '') : ''}`,
          );
        }
      }
      expect(inv.total).toBe(centsToString(want.totalCents));
      expect(inv.credits_applied).toBe(centsToString(want.creditsCents));
      expect(toCents(inv.total)).toBe(
        inv.lines.reduce((a: bigint, l: { amount: string }) => a + toCents(l.amount), 0n),
      );
    }
    // Lines spanning the price change show both prices.
    const h100 = listed.body.invoices
      .flatMap((x: { lines: { key: string; prices: unknown[] }[] }) => x.lines)
      .filter((l: { key: string; prices: unknown[] }) => l.key === 'gpu:H100' && l.prices.length === 2);
    expect(h100.length).toBeGreaterThan(0);

    // Stripe: one customer per workspace, each line exactly once, invoice totals equal ours.
    const held = await stripeHoldings(stripe, new Set(workspaces));
    for (const inv of listed.body.invoices) {
      for (const l of inv.lines) expect([l.id, held.lineCounts.get(l.id)]).toEqual([l.id, 1]);
      expect(held.invoices.get(inv.id)).toMatchObject({ count: 1, total: Number(toCents(inv.total)) });
      expect(inv.stripe.invoice_id).toBe(held.invoices.get(inv.id)!.id);
    }
    for (const ws of workspaces) expect(held.customersPerWorkspace.get(ws)).toBe(1);
  });

  it('running the same month again (CLI) changes nothing in Stripe', async () => {
    const before = await stripeHoldings(stripe, new Set(workspaces));
    const again = await runCli(env, ['invoice', 'run', '--period', month.period]);
    expect(again.code).toBe(0);
    const state = JSON.parse(again.stdout.trim().split('\n').pop()!);
    expect(state.counts).toMatchObject({ already_pushed: 20, pushed: 0, finalized: 0, drafted: 0 });
    const after = await stripeHoldings(stripe, new Set(workspaces));
    expect([...after.lineCounts.values()].every((n) => n === 1)).toBe(true);
    expect(after.lineCounts.size).toBe(before.lineCounts.size);
    expect([...after.customersPerWorkspace.values()].every((n) => n === 1)).toBe(true);
  });

  it('a run SIGKILLed after some Stripe items, then run again, pushes each item exactly once', async () => {
    const killed = await runCli({ ...env, FAULT_INJECTION: 'crash-after-stripe-items=17' }, [
      'invoice',
      'run',
      '--period',
      killMonth.period,
    ]);
    expect(killed.signal).toBe('SIGKILL');
    const partial = await stripeHoldings(stripe, new Set(workspaces));
    const killLineIds = [...partial.lineCounts.keys()].filter((id) =>
      id.startsWith(`inv_${killMonth.period}_`),
    );
    // At least the 17 it counted; requests in flight on other workers may have landed too.
    expect(killLineIds.length).toBeGreaterThanOrEqual(17);
    const killInvoices = [...partial.invoices.keys()].filter((id) =>
      id.startsWith(`inv_${killMonth.period}_`),
    );
    expect(killInvoices.length).toBeLessThan(20);

    const rerun = await runCli(env, ['invoice', 'run', '--period', killMonth.period]);
    expect(rerun.code).toBe(0);
    const listed = await api(svc.url, 'GET', `/v1/invoices?period=${killMonth.period}`, ADMIN_KEY);
    expect(listed.body.invoices).toHaveLength(20);
    const held = await stripeHoldings(stripe, new Set(workspaces));
    const events = bySubject(killEvents);
    for (const [i, ws] of workspaces.entries()) {
      const inv = listed.body.invoices.find((x: { workspace_id: string }) => x.workspace_id === ws);
      expect(inv.status).toBe('pushed');
      const want = oracleInvoice(events.get(ws)!, schedule, killMonth.start, killMonth.end, PLANS[planOf(i)]);
      expect(inv.total).toBe(centsToString(want.totalCents));
      for (const l of inv.lines) expect([l.id, held.lineCounts.get(l.id)]).toEqual([l.id, 1]);
      expect(held.invoices.get(inv.id)).toMatchObject({ count: 1, total: Number(toCents(inv.total)) });
    }
  });
});
