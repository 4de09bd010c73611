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
import { centsToString, LIST, oracleUsage, PLANS, roundCents, toCents } from './support/invoice-oracle';
import { ServiceProcess } from './support/service-process';
import { ADMIN_KEY, isolatedEnv } from './support/test-env';

const DAY = 86_400_000;

/** A grant as the oracle knows it (the terms the test posts). */
interface OracleGrant {
  id: string;
  ws: string;
  cents: bigint;
  priority: number;
  effective: number;
  expires: number | null;
  voided: boolean;
}

/**
 * Credit grants over three months (issue 15), against an independent oracle written from the
 * rules in src/invoicing/README.md with integer cents: grants of several priorities and
 * expiries, a plan's monthly credits among them, usage arriving late for earlier months, and a
 * grant voided half used. Every invoice line and total, and every grant's balance, exact to
 * the cent.
 */
describe('credit grants: consumed in order across months, late usage and a voided grant', () => {
  const tag = randomBytes(3).toString('hex');
  const [A, B, C] = ['a', 'b', 'c'].map((x) => `cg${tag}-${x}`);
  const workspaces = [A, B, C];
  const planOf = (i: number) => (i === 0 ? 'team' : 'starter');
  const months = [monthBack(3), monthBack(2), monthBack(1)];
  let svc: ServiceProcess;
  let ch: ReturnType<typeof chReader>;
  let keys: Record<string, string>;

  const grants: OracleGrant[] = [
    // A (team: 100.00 of plan credits a month, priority 0)
    {
      id: `cg_${tag}_a_void`,
      ws: A,
      cents: 9000n,
      priority: 5,
      effective: months[0].start,
      expires: null,
      voided: false,
    },
    {
      id: `cg_${tag}_a_promo`,
      ws: A,
      cents: 12000n,
      priority: 10,
      effective: months[0].start + 2 * DAY,
      expires: months[1].start + 10 * DAY,
      voided: false,
    },
    {
      id: `cg_${tag}_a_goodwill`,
      ws: A,
      cents: 6000n,
      priority: 10,
      effective: months[1].start + 3 * DAY,
      expires: months[2].start + 20 * DAY,
      voided: false,
    },
    {
      id: `cg_${tag}_a_prepaid`,
      ws: A,
      cents: 40000n,
      priority: 50,
      effective: months[0].start + DAY,
      expires: null,
      voided: false,
    },
    // B (starter: 30.00 a month): one that ties with the plan's priority, one for the last month only
    {
      id: `cg_${tag}_b_first`,
      ws: B,
      cents: 2500n,
      priority: 0,
      effective: months[0].start,
      expires: null,
      voided: false,
    },
    {
      id: `cg_${tag}_b_late`,
      ws: B,
      cents: 50000n,
      priority: 100,
      effective: months[2].start,
      expires: null,
      voided: false,
    },
  ];

  const sender = new MonthUsageSender(
    () => svc.url,
    () => ch,
    workspaces,
    tag,
  );
  const usage = sender.usage;
  const send = (period: number, perWorkspace: number, seed: number) =>
    sender.send(months[period], perWorkspace, seed);

  // ---- the oracle: integer cents, the written rules, no code shared with the service ----
  const consumed = new Map<string, bigint>(); // grant id (plan:<ws>:<period> for plan credits) → cents
  const billedUsage = new Map<string, bigint>(); // ws|period|key → cents billed for it so far
  const planId = (ws: string, period: string) => `plan:${ws}:${period}`;

  function usageLines(ws: string, m: (typeof months)[number]): Map<string, bigint> {
    const events = (usage.get(m.period) ?? []).filter((e) => e.subject === ws);
    const out = new Map<string, bigint>();
    for (const [key, u] of oracleUsage(events, [{ from_ms: 0, prices: LIST }], m.start, m.end))
      out.set(key, roundCents(u.n, u.d));
    return out;
  }

  /** Grants usage of month m may take, in the consumption order, each with what is left. */
  function offered(
    ws: string,
    i: number,
  ): Array<{ id: string; key: string; left: bigint; expires: number | null }> {
    const m = months[i];
    const plan = PLANS[planOf(workspaces.indexOf(ws))];
    const list = [
      ...grants
        .filter((g) => g.ws === ws && g.effective < m.end && (g.expires ?? Infinity) > m.start)
        .map((g) => ({ ...g, key: `credit_grant:${g.id}` })),
      {
        id: planId(ws, m.period),
        ws,
        cents: plan.creditsCents,
        priority: 0,
        effective: m.start,
        expires: m.end,
        voided: false,
        key: 'credits',
      },
    ].sort(
      (a, b) =>
        a.priority - b.priority ||
        (a.expires ?? Infinity) - (b.expires ?? Infinity) ||
        a.effective - b.effective ||
        (a.id < b.id ? -1 : 1),
    );
    return list.map((g) => ({
      id: g.id,
      key: g.key,
      expires: g.expires,
      left: g.voided ? 0n : g.cents - (consumed.get(g.id) ?? 0n),
    }));
  }

  function take(list: ReturnType<typeof offered>, amount: bigint): Map<string, bigint> {
    const out = new Map<string, bigint>();
    let left = amount > 0n ? amount : 0n;
    for (const g of list) {
      const t = g.left < left ? g.left : left;
      if (t > 0n) {
        out.set(g.id, t);
        consumed.set(g.id, (consumed.get(g.id) ?? 0n) + t);
        left -= t;
      }
    }
    return out;
  }

  /** The invoice of month i for ws: line key → cents (zero lines left out), and the grants' balances after it. */
  function expectInvoice(ws: string, i: number) {
    const lines = new Map<string, bigint>();
    const keyOf = (id: string) => (id.startsWith('plan:') ? 'credits' : `credit_grant:${id}`);
    // Late usage of each earlier month first, oldest first: usage lines' differences, then
    // the grants in force in that month give more, from what is left of them now.
    for (let p = 0; p < i; p++) {
      const m = months[p];
      let delta = 0n;
      for (const [key, cents] of usageLines(ws, m)) {
        const was = billedUsage.get(`${ws}|${m.period}|${key}`) ?? 0n;
        if (cents !== was) lines.set(`adjustment:${m.period}:${key}`, cents - was);
        billedUsage.set(`${ws}|${m.period}|${key}`, cents);
        delta += cents - was;
      }
      for (const [id, t] of take(offered(ws, p), delta)) lines.set(`adjustment:${m.period}:${keyOf(id)}`, -t);
    }
    const m = months[i];
    let own = 0n;
    for (const [key, cents] of usageLines(ws, m)) {
      if (cents !== 0n) lines.set(key, cents);
      billedUsage.set(`${ws}|${m.period}|${key}`, cents);
      own += cents;
    }
    const plan = PLANS[planOf(workspaces.indexOf(ws))];
    if (plan.feeCents > 0n) lines.set('plan_fee', plan.feeCents);
    for (const [id, t] of take(offered(ws, i), own)) lines.set(keyOf(id), -t);
    const total = [...lines.values()].reduce((a, b) => a + b, 0n);
    const balances = new Map(
      grants
        .filter((g) => g.ws === ws && g.effective < m.end && (g.expires ?? Infinity) > m.start)
        .map((g) => {
          const after = g.voided ? 0n : g.cents - (consumed.get(g.id) ?? 0n);
          const expired = g.expires !== null && g.expires <= m.end && !g.voided ? after : 0n;
          return [g.id, `${centsToString(after)} expired ${centsToString(expired)}`];
        }),
    );
    return { lines, total, balances };
  }

  async function checkMonth(i: number): Promise<void> {
    const m = months[i];
    for (const ws of workspaces) {
      const want = expectInvoice(ws, i);
      const inv = await api(svc.url, 'GET', `/v1/invoices/inv_${m.period}_${ws}`, ADMIN_KEY);
      expect(inv.status).toBe(200);
      const got = new Map<string, bigint>(
        (inv.body.lines as { key: string; amount: string }[])
          .filter((l) => toCents(l.amount) !== 0n)
          .map((l) => [l.key, toCents(l.amount)]),
      );
      const show = (lines: Map<string, bigint>) =>
        Object.fromEntries(
          [...lines].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, c]) => [k, centsToString(c)]),
        );
      expect([ws, m.period, show(got)]).toEqual([ws, m.period, show(want.lines)]);
      expect([ws, m.period, inv.body.total]).toEqual([ws, m.period, centsToString(want.total)]);
      const uses = new Map(
        (inv.body.credit_grants as { grant_id: string; balance_after: string; expired: string }[])
          .filter((u) => !u.grant_id.startsWith('plan:'))
          .map((u) => [u.grant_id, `${u.balance_after} expired ${u.expired}`]),
      );
      for (const [id, b] of want.balances)
        expect([ws, m.period, id, uses.get(id)]).toEqual([ws, m.period, id, b]);
    }
  }

  beforeAll(async () => {
    const env = await isolatedEnv('grants', { ...LOCALSTRIPE_BILLING_ENV, INVOICE_GRACE_HOURS: '0' });
    svc = await new ServiceProcess('grants', env, 'all').start();
    ch = chReader(env);
    keys = await createPlannedWorkspaces(svc.url, workspaces, planOf);
    for (const g of grants) {
      const r = await api(svc.url, 'POST', `/v1/workspaces/${g.ws}/credit-grants`, ADMIN_KEY, {
        id: g.id,
        amount: centsToString(g.cents),
        kind: g.id.includes('prepaid') ? 'prepaid' : g.id.includes('goodwill') ? 'goodwill' : 'promotional',
        priority: g.priority,
        effective_at: new Date(g.effective).toISOString(),
        ...(g.expires === null ? {} : { expires_at: new Date(g.expires).toISOString() }),
        reason: `test grant ${g.id}`,
      });
      expect([g.id, r.status]).toEqual([g.id, 201]);
    }
  });

  afterAll(async () => {
    await svc?.kill();
    await ch?.close();
  });

  it('every invoice and every balance equals the oracle, to the cent', async () => {
    await send(0, 25, 201);
    expect(await runInvoiceMonth(svc.url, months[0].period)).toMatchObject({
      status: 'completed',
      errors: [],
    });
    await checkMonth(0);

    await send(1, 25, 202);
    await send(0, 6, 203); // late for the first month
    expect(await runInvoiceMonth(svc.url, months[1].period)).toMatchObject({
      status: 'completed',
      errors: [],
    });
    await checkMonth(1);

    // The grant given first and half used is voided: what is left of it is gone.
    const voidedGrant = grants[0];
    const before = await api(svc.url, 'GET', `/v1/workspaces/${A}/credit-grants`, ADMIN_KEY);
    const listed = (before.body.grants as { grant_id: string; balance: string }[]).find(
      (g) => g.grant_id === voidedGrant.id,
    )!;
    const voided = await api(
      svc.url,
      'DELETE',
      `/v1/workspaces/${A}/credit-grants/${voidedGrant.id}`,
      ADMIN_KEY,
      {
        reason: 'test',
      },
    );
    expect([voided.status, voided.body.status, voided.body.voided_amount]).toEqual([
      200,
      'voided',
      listed.balance,
    ]);
    voidedGrant.voided = true;

    await send(2, 25, 204);
    await send(0, 4, 205);
    await send(1, 5, 206);
    expect(await runInvoiceMonth(svc.url, months[2].period)).toMatchObject({
      status: 'completed',
      errors: [],
    });
    await checkMonth(2);

    // Each grant's balance as the API lists it: what finalized invoices left (0 once expired or voided).
    for (const ws of workspaces) {
      const r = await api(svc.url, 'GET', `/v1/workspaces/${ws}/credit-grants`, ADMIN_KEY);
      const got = Object.fromEntries(
        (r.body.grants as { grant_id: string; consumed: string; balance: string; status: string }[]).map(
          (g) => [g.grant_id, [g.consumed, g.balance, g.status]],
        ),
      );
      const now = Date.now();
      const want = Object.fromEntries(
        grants
          .filter((g) => g.ws === ws)
          .map((g) => {
            const used = consumed.get(g.id) ?? 0n;
            const expired = g.expires !== null && g.expires <= now;
            const left = g.voided || expired ? 0n : g.cents - used;
            const status = g.voided ? 'voided' : expired ? 'expired' : left === 0n ? 'used' : 'active';
            return [g.id, [centsToString(used), centsToString(left), status]];
          }),
      );
      expect([ws, got]).toEqual([ws, want]);
    }
    // The grants were consumed in several ways: all of them tested something.
    expect(
      [...consumed].filter(([id, c]) => !id.startsWith('plan:') && c > 0n).length,
    ).toBeGreaterThanOrEqual(4);

    // Each month reconciles: nothing unbilled.
    for (const m of months) {
      const r = await api(svc.url, 'GET', `/v1/reconciliation?period=${m.period}&stripe=true`, ADMIN_KEY);
      expect([m.period, r.body.differences]).toEqual([m.period, []]);
    }
  });

  it('refuses bad grants with a 400 naming the field, another workspace’s key with a 404', async () => {
    const post = (body: Record<string, unknown>) =>
      api(svc.url, 'POST', `/v1/workspaces/${A}/credit-grants`, ADMIN_KEY, {
        amount: '10.00',
        kind: 'goodwill',
        reason: 'x',
        ...body,
      });
    for (const [body, field] of [
      [{ amount: '0.00' }, 'amount'],
      [{ amount: '1.234' }, 'amount'],
      [{ kind: 'free' }, 'kind'],
      [{ priority: 101 }, 'priority'],
      [{ currency: 'eur' }, 'currency'],
      [{ effective_at: 'yesterday' }, 'effective_at'],
      [{ effective_at: new Date(months[0].start + DAY).toISOString() }, 'effective_at'], // a closed month
      [{ expires_at: new Date(Date.now() - 2 * 365 * DAY).toISOString() }, 'expires_at'],
      [{ reason: '' }, 'reason'],
    ] as const) {
      const r = await post(body);
      expect([JSON.stringify(body), r.status, r.body.error?.details?.[0]?.field]).toEqual([
        JSON.stringify(body),
        400,
        field,
      ]);
    }
    // A retry with the same id and terms is the same grant; other terms under it are refused.
    const first = await post({ id: `cg_${tag}_retry` });
    const again = await post({ id: `cg_${tag}_retry` });
    expect([first.status, again.status, again.body.grant_id]).toEqual([201, 201, `cg_${tag}_retry`]);
    expect((await post({ id: `cg_${tag}_retry`, amount: '11.00' })).status).toBe(409);
    // A workspace reads its own grants, not another's; only the operator grants.
    const keyB = keys[B];
    expect((await api(svc.url, 'GET', `/v1/workspaces/${B}/credit-grants`, keyB)).status).toBe(200);
    expect((await api(svc.url, 'GET', `/v1/workspaces/${A}/credit-grants`, keyB)).status).toBe(404);
    expect(
      (
        await api(svc.url, 'POST', `/v1/workspaces/${B}/credit-grants`, keyB, {
          amount: '1.00',
          kind: 'goodwill',
          reason: 'me',
        })
      ).status,
    ).toBe(403);
  });
});
