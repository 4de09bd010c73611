import { randomBytes } from 'node:crypto';
import { chReader } from './support/clickhouse';
import { api } from './support/http';
import {
  LOCALSTRIPE_BILLING_ENV,
  LOCALSTRIPE_URL,
  monthBack,
  MonthUsageSender,
  runCli,
  runInvoiceMonth,
  stripeAt,
  stripeHoldings,
} from './support/billing';
import {
  centsToString,
  LIST,
  MS_PER_UNIT,
  oracleUsage,
  quantityMs,
  roundCents,
  toCents,
} from './support/invoice-oracle';
import { ServiceProcess } from './support/service-process';
import { ADMIN_KEY, isolatedEnv } from './support/test-env';
import { openDashboard, pickMonth, signIn } from './support/dashboard-page';

const DAY = 86_400_000;

interface Line {
  id: string;
  key: string;
  kind: string;
  unit: string;
  quantity: string;
  amount: string;
  prices: { from: string; quantity: string; amount: string }[];
  billed_before?: { quantity: string; amount: string };
  events?: { events: string; quantity_ms: string; ingested_after: string | null; ingested_until: string };
}
interface Invoice {
  id: string;
  workspace_id: string;
  period: string;
  lines: Line[];
  total: string;
  status: string;
  threshold?: { sequence: number; billing_threshold: string; usage_as_of: string };
  threshold_invoices?: string[];
  events_as_of?: string;
}

/**
 * Mid-month threshold invoices (issue 15, part 2), against the real service, Kafka, ClickHouse
 * and localstripe. A month crosses its workspaces' thresholds twice, with usage arriving late
 * between the crossings; a threshold run is SIGKILLed in the middle of its Stripe push and run
 * again; then the month ends and its month-end invoice bills the rest. The month's invoices
 * add up, line by line, to one invoice of the whole month computed by an independent integer
 * oracle, and every Stripe item exists exactly once.
 */
describe('threshold invoices: a month billed in parts adds up to the month billed at once', () => {
  const tag = randomBytes(3).toString('hex');
  const [A, B, C] = ['a', 'b', 'c'].map((x) => `th${tag}-${x}`);
  const workspaces = [A, B, C];
  const month = monthBack(1);
  const burstPlan = `burst${tag}`;
  const promo = `cg_${tag}_promo`;
  // A: team (fee 250.00, credits 100.00) with a 60.00 grant, its own threshold 150.00.
  // B: a plan with a threshold of 100.00 (fee 0, credits 20.00). C: starter, no threshold.
  const thresholds: Record<string, bigint | null> = { [A]: 15000n, [B]: 10000n, [C]: null };
  const plans: Record<string, { feeCents: bigint; creditsCents: bigint }> = {
    [A]: { feeCents: 25000n, creditsCents: 10000n },
    [B]: { feeCents: 0n, creditsCents: 2000n },
    [C]: { feeCents: 0n, creditsCents: 3000n },
  };
  const grantCents: Record<string, bigint> = { [A]: 6000n, [B]: 0n, [C]: 0n };
  let env: Record<string, string>;
  let svc: ServiceProcess;
  let ch: ReturnType<typeof chReader>;
  const keys: Record<string, string> = {};
  const sender = new MonthUsageSender(
    () => svc.url,
    () => ch,
    workspaces,
    tag,
  );
  const part = (fromDay: number, toDay: number) => ({
    start: month.start + fromDay * DAY,
    end: Math.min(month.end, month.start + toDay * DAY),
    period: month.period,
  });

  async function monthInvoices(ws: string): Promise<Invoice[]> {
    const r = await api(svc.url, 'GET', `/v1/invoices?workspace_id=${ws}&period=${month.period}`, ADMIN_KEY);
    expect(r.status).toBe(200);
    return (r.body.invoices as Invoice[]).sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  async function thresholdRun(): Promise<{ finalized: number; status: string }> {
    const run = await runInvoiceMonth(svc.url, month.period, 'threshold');
    expect(run.mode).toBe('threshold');
    return { finalized: run.counts.finalized, status: run.status };
  }

  beforeAll(async () => {
    // A grace longer than the month has been over: the month may not be finalized yet, so its
    // threshold invoices can still be drawn up (as in the days before a month ends).
    env = await isolatedEnv('thresholds', { ...LOCALSTRIPE_BILLING_ENV, INVOICE_GRACE_HOURS: '1000' });
    svc = await new ServiceProcess('thresholds', env, 'all').start();
    ch = chReader(env);
    const plan = await api(svc.url, 'POST', '/v1/catalog/plan-changes', ADMIN_KEY, {
      effective_from: new Date(month.start).toISOString(),
      plan: burstPlan,
      base_fee: '0.00',
      monthly_credits: '20.00',
      billing_threshold: '100.00',
    });
    expect(plan.status).toBe(201);
    for (const [ws, p] of [
      [A, 'team'],
      [B, burstPlan],
      [C, 'starter'],
    ]) {
      const r = await api(svc.url, 'POST', '/v1/workspaces', ADMIN_KEY, {
        id: ws,
        name: `Workspace ${ws}`,
        email: `${ws}@example.test`,
        plan: p,
      });
      expect([ws, r.status]).toEqual([ws, 201]);
      keys[ws] = r.body.api_key;
    }
    const own = await api(svc.url, 'PUT', `/v1/workspaces/${A}/billing-threshold`, ADMIN_KEY, {
      billing_threshold: '150',
    });
    expect([own.status, own.body]).toEqual([
      200,
      { workspace_id: A, billing_threshold: '150.00', source: 'workspace', plan: 'team' },
    ]);
    const grant = await api(svc.url, 'POST', `/v1/workspaces/${A}/credit-grants`, ADMIN_KEY, {
      id: promo,
      amount: '60.00',
      kind: 'promotional',
      priority: 10,
      effective_at: new Date(month.start).toISOString(),
      reason: 'test grant',
    });
    expect(grant.status).toBe(201);
  });

  afterAll(async () => {
    await svc?.kill();
    await ch?.close();
  });

  it('bills each crossing once, survives a kill mid-push, and the month-end invoice bills the rest', async () => {
    // 1. The first crossing.
    await sender.send(part(0, 12), 80, 301);
    expect(await thresholdRun()).toEqual({ finalized: 2, status: 'completed' });
    const a = await monthInvoices(A);
    expect(a.map((i) => [i.id, i.status, i.threshold?.sequence])).toEqual([
      [`inv_${month.period}_${A}_t1`, 'pushed', 1],
    ]);
    expect(toCents(a[0].total)).toBeGreaterThanOrEqual(thresholds[A]!);
    expect(a[0].lines.some((l) => l.kind === 'plan_fee')).toBe(false); // the fee is the month-end's
    expect((await monthInvoices(B)).map((i) => i.id)).toEqual([`inv_${month.period}_${B}_t1`]);
    expect(await monthInvoices(C)).toEqual([]);
    // Run again at once: nothing is due, nothing new.
    expect(await thresholdRun()).toEqual({ finalized: 0, status: 'completed' });

    // 2. More usage, some of it late (its hours are in the part already billed), crosses again;
    // the threshold run is SIGKILLed after 4 Stripe items, then run again, twice.
    await sender.send(part(12, 24), 80, 302);
    await sender.send(part(0, 12), 25, 303);
    const killed = await runCli({ ...env, FAULT_INJECTION: 'crash-after-stripe-items=4' }, [
      'invoice',
      'run',
      '--period',
      month.period,
      '--threshold',
    ]);
    expect(killed.signal).toBe('SIGKILL');
    const rerun = await runCli(env, ['invoice', 'run', '--period', month.period, '--threshold']);
    expect([rerun.code, rerun.stderr.slice(-500)]).toEqual([0, rerun.stderr.slice(-500)]);
    expect(JSON.parse(rerun.stdout.trim().split('\n').pop()!).counts.finalized).toBe(0);
    expect(await thresholdRun()).toEqual({ finalized: 0, status: 'completed' });
    for (const ws of [A, B])
      expect((await monthInvoices(ws)).map((i) => [i.id, i.status])).toEqual([
        [`inv_${month.period}_${ws}_t1`, 'pushed'],
        [`inv_${month.period}_${ws}_t2`, 'pushed'],
      ]);

    // 3. A little more usage: under the thresholds, no invoice.
    await sender.send(part(24, 31), 2, 304);
    expect(await thresholdRun()).toEqual({ finalized: 0, status: 'completed' });

    // 4. Time passes: the month may be finalized (the same data, the grace now over). Threshold
    // runs of it are refused; the month-end run bills the rest, and again changes nothing.
    await svc.kill();
    svc = new ServiceProcess('thresholds', { ...env, INVOICE_GRACE_HOURS: '0' }, 'all');
    await svc.start();
    const refused = await api(svc.url, 'POST', '/v1/invoice-runs', ADMIN_KEY, {
      period: month.period,
      mode: 'threshold',
    });
    expect([refused.status, refused.body.error?.details?.[0]?.field]).toEqual([400, 'period']);
    expect(await runInvoiceMonth(svc.url, month.period)).toMatchObject({ status: 'completed', errors: [] });
    expect(await runInvoiceMonth(svc.url, month.period)).toMatchObject({
      status: 'completed',
      errors: [],
      counts: { drafted: 0, finalized: 0, pushed: 0 },
    });

    // 5. Each workspace's invoices of the month, added up line by line, equal one invoice of the
    // whole month from the oracle: usage lines rounded once, plan credits then the grant, fee.
    const events = sender.usage.get(month.period)!;
    const schedule = [{ from_ms: 0, prices: LIST }];
    for (const ws of workspaces) {
      const usage = oracleUsage(
        events.filter((e) => e.subject === ws),
        schedule,
        month.start,
        month.end,
      );
      const want = new Map<string, bigint>();
      const wantMs = new Map<string, bigint>();
      let usageCents = 0n;
      for (const [key, u] of usage) {
        const c = roundCents(u.n, u.d);
        want.set(key, c);
        wantMs.set(key, u.quantityMs);
        usageCents += c;
      }
      const planCredit = usageCents < plans[ws].creditsCents ? usageCents : plans[ws].creditsCents;
      if (planCredit > 0n) want.set('credits', -planCredit);
      const rest = usageCents - planCredit;
      const grantCredit = rest < grantCents[ws] ? rest : grantCents[ws];
      if (grantCredit > 0n) want.set(`credit_grant:${promo}`, -grantCredit);
      if (plans[ws].feeCents > 0n) want.set('plan_fee', plans[ws].feeCents);

      const invoices = await monthInvoices(ws);
      const main = invoices.find((i) => !i.threshold)!;
      const parts = invoices.filter((i) => i.threshold);
      expect(main.id).toBe(`inv_${month.period}_${ws}`);
      expect(main.threshold_invoices ?? []).toEqual(parts.map((p) => p.id));
      expect(parts.length).toBe(thresholds[ws] === null ? 0 : 2);
      const got = new Map<string, bigint>();
      const gotMs = new Map<string, bigint>();
      const tracedMs = new Map<string, bigint>();
      for (const inv of invoices) {
        expect([inv.id, inv.status]).toEqual([inv.id, 'pushed']);
        for (const l of inv.lines) {
          got.set(l.key, (got.get(l.key) ?? 0n) + toCents(l.amount));
          if (MS_PER_UNIT[l.unit] === undefined) continue;
          gotMs.set(l.key, (gotMs.get(l.key) ?? 0n) + quantityMs(l.quantity, l.unit));
          // Every usage line is traced to the events accepted since the month's previous invoice.
          expect([l.id, l.events?.quantity_ms]).toEqual([l.id, quantityMs(l.quantity, l.unit).toString()]);
          tracedMs.set(l.key, (tracedMs.get(l.key) ?? 0n) + BigInt(l.events!.quantity_ms));
        }
      }
      expect([ws, Object.fromEntries([...got].map(([k, v]) => [k, centsToString(v)]))]).toEqual([
        ws,
        Object.fromEntries([...want].map(([k, v]) => [k, centsToString(v)])),
      ]);
      expect([ws, gotMs]).toEqual([ws, wantMs]);
      expect([ws, tracedMs]).toEqual([ws, wantMs]);
      const total = invoices.reduce((s, i) => s + toCents(i.total), 0n);
      expect([ws, centsToString(total)]).toEqual([
        ws,
        centsToString([...want.values()].reduce((s, c) => s + c, 0n)),
      ]);
      // The parts follow each other: each starts where the one before stopped.
      for (const [i, inv] of invoices
        .slice()
        .sort((x, y) => (x.threshold?.sequence ?? 99) - (y.threshold?.sequence ?? 99))
        .entries()) {
        if (i === 0) continue;
        const prev = invoices.find((x) => x.threshold?.sequence === i)!;
        for (const l of inv.lines.filter((x) => x.events))
          expect([l.id, l.events!.ingested_after]).toEqual([
            l.id,
            new Date(Date.parse(prev.events_as_of!) - 1).toISOString(),
          ]);
      }
      // The late usage went to the second threshold invoice: it billed some of the first part's days.
      if (parts.length === 2) expect(parts[1].lines.some((l) => l.billed_before !== undefined)).toBe(true);
    }

    // 6. Stripe holds every line of every invoice exactly once, on one invoice per gpumeter
    // invoice, with our totals; the month reconciles.
    const held = await stripeHoldings(stripeAt(LOCALSTRIPE_URL), new Set(workspaces));
    const all = (await Promise.all(workspaces.map(monthInvoices))).flat();
    for (const inv of all) {
      const stripeInvoice = held.invoices.get(inv.id);
      expect([inv.id, stripeInvoice?.total, stripeInvoice?.count]).toEqual([
        inv.id,
        Number(toCents(inv.total)),
        1,
      ]);
      for (const l of inv.lines) expect([l.id, held.lineCounts.get(l.id)]).toEqual([l.id, 1]);
    }
    expect([...held.lineCounts.values()].filter((n) => n !== 1)).toEqual([]);
    const rec = await api(svc.url, 'GET', `/v1/reconciliation?period=${month.period}&stripe=true`, ADMIN_KEY);
    expect(rec.body.differences).toEqual([]);
  });

  it('a replay into a new database rebuilds the same month: every invoice and the grant ledger', async () => {
    const database = `${env.CLICKHOUSE_DATABASE}_r`;
    const result = await runCli({ ...env, INVOICE_GRACE_HOURS: '0' }, ['replay', '--database', database]);
    expect([result.code, result.stderr.slice(-300)]).toEqual([0, result.stderr.slice(-300)]);
    const live = chReader(env);
    const replayed = chReader({ ...env, CLICKHOUSE_DATABASE: database });
    const documents = `SELECT id, finalized, document FROM invoice_documents FINAL
      WHERE period = '${month.period}' ORDER BY id`;
    const ledger = `SELECT workspace_id, grant_id, invoice_id, argMin(amount, finalized_at_ms) AS amount
      FROM credit_grant_consumption GROUP BY workspace_id, grant_id, invoice_id
      ORDER BY workspace_id, grant_id, invoice_id`;
    try {
      const docs = await live.all<{ id: string }>(documents);
      expect(docs.filter((d) => /_t\d$/.test(d.id)).length).toBe(4);
      expect(await replayed.all(documents)).toEqual(docs);
      expect(await replayed.all(ledger)).toEqual(await live.all(ledger));
    } finally {
      await replayed.command(`DROP DATABASE IF EXISTS ${database}`);
      await replayed.close();
      await live.close();
    }
  });

  it('the dashboard shows a month billed in parts as the sum of its invoices', async () => {
    const errors: string[] = [];
    const dom = await openDashboard(svc.url, errors);
    try {
      expect(await signIn(dom, keys[A])).toBe('loaded');
      expect(await pickMonth(dom, month.period)).toBe('loaded');
      const invoices = await monthInvoices(A);
      expect(invoices.length).toBe(3);
      const { document } = dom.window;
      expect(document.querySelector('#card-spend .value')!.textContent).toBe(
        `${centsToString(invoices.reduce((s, i) => s + toCents(i.total), 0n))} USD`,
      );
      expect(document.querySelector('#card-spend .note')!.textContent).toBe(
        '3 invoices: 2 mid-month, the month-end one pushed',
      );
    } finally {
      dom.window.close();
    }
    expect(errors.filter((e) => !e.includes('matchMedia is not defined'))).toEqual([]);
  });

  it('a workspace reads its threshold, only the operator sets it; bad input is a 400 naming the field', async () => {
    const mine = await api(svc.url, 'GET', `/v1/workspaces/${B}/billing-threshold`, keys[B]);
    expect([mine.status, mine.body]).toEqual([
      200,
      { workspace_id: B, billing_threshold: '100.00', source: 'plan', plan: burstPlan },
    ]);
    expect((await api(svc.url, 'GET', `/v1/workspaces/${A}/billing-threshold`, keys[B])).status).toBe(404);
    expect(
      (
        await api(svc.url, 'PUT', `/v1/workspaces/${B}/billing-threshold`, keys[B], {
          billing_threshold: null,
        })
      ).status,
    ).toBe(403);
    for (const body of [{ billing_threshold: '0.50' }, { billing_threshold: 12 }, {}]) {
      const r = await api(svc.url, 'PUT', `/v1/workspaces/${B}/billing-threshold`, ADMIN_KEY, body);
      expect([JSON.stringify(body), r.status, r.body.error?.details?.[0]?.field]).toEqual([
        JSON.stringify(body),
        400,
        'billing_threshold',
      ]);
    }
    const none = await api(svc.url, 'PUT', `/v1/workspaces/${B}/billing-threshold`, ADMIN_KEY, {
      billing_threshold: null,
    });
    expect(none.body).toMatchObject({ billing_threshold: null, source: 'workspace' });
    const back = await api(svc.url, 'DELETE', `/v1/workspaces/${B}/billing-threshold`, ADMIN_KEY);
    expect(back.body).toMatchObject({ billing_threshold: '100.00', source: 'plan' });
    const badMode = await api(svc.url, 'POST', '/v1/invoice-runs', ADMIN_KEY, {
      period: month.period,
      mode: 'weekly',
    });
    expect([badMode.status, badMode.body.error?.details?.[0]?.field]).toEqual([400, 'mode']);
    const badPlan = await api(svc.url, 'POST', '/v1/catalog/plan-changes', ADMIN_KEY, {
      effective_from: '2030-01-01T00:00:00Z',
      plan: burstPlan,
      base_fee: '0.00',
      monthly_credits: '0.00',
      billing_threshold: '-5',
    });
    expect([badPlan.status, badPlan.body.error?.details?.[0]?.field]).toEqual([400, 'billing_threshold']);
  });
});
