import { randomBytes } from 'node:crypto';
import { chReader } from './support/clickhouse';
import { api } from './support/http';
import {
  createPlannedWorkspaces,
  LOCALSTRIPE_BILLING_ENV,
  monthBack,
  MonthUsageSender,
  runInvoiceMonth,
} from './support/billing';
import { centsToString, LIST, oracleInvoice, PLANS, toCents } from './support/invoice-oracle';
import { ServiceProcess } from './support/service-process';
import { ADMIN_KEY, isolatedEnv } from './support/test-env';

interface Line {
  key: string;
  kind: string;
  amount: string;
  adjusts?: { period: string; key: string };
}

/**
 * Three months invoiced one after another, with usage for each earlier month arriving late
 * every time. Whatever the order things arrive in, every month's charges — its own invoice
 * plus the adjustment lines for it on later invoices — add up, line by line, to an
 * independent calculation over all of that month's usage; every month then reconciles.
 */
describe('billing over several months: late usage is charged once, in full, whenever it arrives', () => {
  const tag = randomBytes(3).toString('hex');
  const workspaces = ['a', 'b', 'c', 'd'].map((x) => `mo${tag}-${x}`);
  const planOf = (i: number) => (i % 2 === 0 ? 'team' : 'starter');
  const months = [monthBack(3), monthBack(2), monthBack(1)];
  let svc: ServiceProcess;
  let ch: ReturnType<typeof chReader>;

  const sender = new MonthUsageSender(
    () => svc.url,
    () => ch,
    workspaces,
    tag,
  );
  const usage = sender.usage;
  const send = (period: number, perWorkspace: number, seed: number) =>
    sender.send(months[period], perWorkspace, seed);

  beforeAll(async () => {
    const env = await isolatedEnv('months', { ...LOCALSTRIPE_BILLING_ENV, INVOICE_GRACE_HOURS: '0' });
    svc = await new ServiceProcess('months', env, 'all').start();
    ch = chReader(env);
    await createPlannedWorkspaces(svc.url, workspaces, planOf);
  });

  afterAll(async () => {
    await svc?.kill();
    await ch?.close();
  });

  it('three months, each run after late usage for the earlier ones, add up to the independent calculation', async () => {
    // Month 1 on time, then invoiced.
    await send(0, 25, 101);
    expect(await runInvoiceMonth(svc.url, months[0].period)).toMatchObject({
      status: 'completed',
      errors: [],
    });
    // Month 2 on time, month 1 late; month 2 invoiced (with month 1's adjustment), twice.
    await send(1, 25, 102);
    await send(0, 5, 103);
    expect(await runInvoiceMonth(svc.url, months[1].period)).toMatchObject({
      status: 'completed',
      errors: [],
    });
    expect(await runInvoiceMonth(svc.url, months[1].period)).toMatchObject({ status: 'completed' });
    // Month 3 on time, months 1 and 2 late; month 3 invoiced.
    await send(2, 25, 104);
    await send(0, 3, 105);
    await send(1, 4, 106);
    expect(await runInvoiceMonth(svc.url, months[2].period)).toMatchObject({
      status: 'completed',
      errors: [],
    });

    // Every line of every invoice, attributed to the month it charges for.
    const charged = new Map<string, bigint>(); // `${ws}|${period}|${key}` → cents
    let adjustmentLines = 0;
    for (const m of months) {
      const listed = await api(svc.url, 'GET', `/v1/invoices?period=${m.period}`, ADMIN_KEY);
      expect(listed.body.invoices).toHaveLength(workspaces.length);
      for (const inv of listed.body.invoices as { workspace_id: string; status: string; lines: Line[] }[]) {
        expect(inv.status).toBe('pushed');
        for (const l of inv.lines) {
          if (l.kind === 'adjustment') adjustmentLines++;
          const [period, key] =
            l.kind === 'adjustment' ? [l.adjusts!.period, l.adjusts!.key] : [m.period, l.key];
          const k = `${inv.workspace_id}|${period}|${key}`;
          charged.set(k, (charged.get(k) ?? 0n) + toCents(l.amount));
        }
      }
    }
    for (const [i, ws] of workspaces.entries()) {
      for (const m of months) {
        const events = usage.get(m.period)!.filter((e) => e.subject === ws);
        const want = oracleInvoice(events, [{ from_ms: 0, prices: LIST }], m.start, m.end, PLANS[planOf(i)]);
        const got = new Map(
          [...charged]
            .filter(([k]) => k.startsWith(`${ws}|${m.period}|`))
            .map(([k, c]) => [k.split('|')[2], c]),
        );
        // Keys whose adjustments cancelled out are 0.00, which the calculation leaves out.
        for (const [k, c] of got) if (c === 0n && !want.lines.has(k)) got.delete(k);
        expect([ws, m.period, Object.fromEntries([...got].map(([k, c]) => [k, centsToString(c)]))]).toEqual([
          ws,
          m.period,
          Object.fromEntries([...want.lines].map(([k, c]) => [k, centsToString(c)])),
        ]);
      }
    }
    // Late usage reached every workspace in months 1 and 2: their adjustments are on later invoices.
    expect(adjustmentLines).toBeGreaterThanOrEqual(workspaces.length * 2);

    // Each month reconciles: nothing unbilled, each pushed invoice once in Stripe with its total.
    for (const m of months) {
      const r = await api(svc.url, 'GET', `/v1/reconciliation?period=${m.period}&stripe=true`, ADMIN_KEY);
      expect([m.period, r.body.differences]).toEqual([m.period, []]);
      expect(r.body.stripe.checked).toBe(workspaces.length);
    }
    // The open month looks back at all three and finds nothing to adjust.
    for (const ws of workspaces) {
      const up = await api(svc.url, 'GET', `/v1/invoices/upcoming?workspace_id=${ws}`, ADMIN_KEY);
      expect(up.body.lines.filter((l: Line) => l.kind === 'adjustment')).toEqual([]);
    }
  });
});
