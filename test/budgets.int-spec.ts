import { randomBytes } from 'node:crypto';
import { chReader } from './support/clickhouse';
import { api, postEvents } from './support/http';
import { monthBack, usageEvents } from './support/billing';
import { toCents } from './support/invoice-oracle';
import { ServiceProcess } from './support/service-process';
import { ADMIN_KEY, isolatedEnv } from './support/test-env';

/** PUT /v1/workspaces/{id}/budget and the budget status GET /v1/spend/current reports. */
describe('budgets: a monthly limit with alert thresholds, compared exactly with spend', () => {
  const tag = randomBytes(3).toString('hex');
  const [ws, other] = [`bu${tag}-a`, `bu${tag}-b`];
  const keys = new Map<string, string>();
  let svc: ServiceProcess;
  let ch: ReturnType<typeof chReader>;

  beforeAll(async () => {
    const env = await isolatedEnv('budgets', {});
    svc = await new ServiceProcess('budgets', env, 'all').start();
    ch = chReader(env);
    for (const id of [ws, other]) {
      const r = await api(svc.url, 'POST', '/v1/workspaces', ADMIN_KEY, {
        id,
        name: id,
        email: `${id}@x.test`,
        plan: 'team',
      });
      keys.set(id, r.body.api_key);
    }
    const now = Date.now();
    const { events } = usageEvents({
      workspaces: [ws],
      perWorkspace: 8,
      fromMs: Math.max(monthBack(0).start, now - 6 * 3_600_000),
      toMs: now - 60_000,
      seed: 91,
      idPrefix: tag,
    });
    await postEvents(svc.url, events);
    const deadline = Date.now() + 60_000;
    while ((await ch.totals()).hourlyEvents !== BigInt(events.length)) {
      if (Date.now() > deadline) throw new Error('events not stored');
      await new Promise((r) => setTimeout(r, 250));
    }
  });

  afterAll(async () => {
    await svc?.kill();
    await ch?.close();
  });

  it('a workspace sets its budget and sees its spend against it, thresholds compared to the cent', async () => {
    const key = keys.get(ws)!;
    expect((await api(svc.url, 'GET', '/v1/spend/current', key)).body.budget).toBeNull();
    const before = (await api(svc.url, 'GET', '/v1/spend/current', key)).body;
    const spent = toCents(before.spend_so_far.amount);
    // A limit just above the spend, and one threshold exactly at it.
    const limit = spent + 1n;
    const atSpend = Number((spent * 100n) / limit); // a whole percent at or below the spend
    const set = await api(svc.url, 'PUT', `/v1/workspaces/${ws}/budget`, key, {
      monthly_limit: `${limit / 100n}.${String(limit % 100n).padStart(2, '0')}`,
      thresholds: [100, atSpend, 10],
    });
    expect(set.status).toBe(200);
    expect(set.body.thresholds).toEqual([...new Set([10, atSpend, 100])].sort((a, b) => a - b));
    let budget: {
      thresholds_reached: number[];
      exceeded: boolean;
      monthly_limit: { amount: string };
    } | null = null;
    const deadline = Date.now() + 15_000;
    while (!budget) {
      budget = (await api(svc.url, 'GET', '/v1/spend/current', key)).body.budget;
      if (Date.now() > deadline) throw new Error('budget not projected');
      if (!budget) await new Promise((r) => setTimeout(r, 200));
    }
    expect(budget.monthly_limit.amount).toBe(set.body.monthly_limit);
    expect(budget.exceeded).toBe(false);
    expect(budget.thresholds_reached).toEqual(
      [...new Set([10, atSpend])].filter((t) => spent * 100n >= limit * BigInt(t)).sort((a, b) => a - b),
    );
    expect(budget.thresholds_reached).not.toContain(100);

    // Lowered below the spend: exceeded, every threshold reached.
    await api(svc.url, 'PUT', `/v1/workspaces/${ws}/budget`, ADMIN_KEY, { monthly_limit: '1.00' });
    const deadline2 = Date.now() + 15_000;
    for (;;) {
      const b = (await api(svc.url, 'GET', '/v1/spend/current', key)).body.budget;
      if (b?.monthly_limit.amount === '1.00') {
        expect(b).toMatchObject({
          exceeded: true,
          thresholds: [50, 80, 100],
          thresholds_reached: [50, 80, 100],
        });
        break;
      }
      if (Date.now() > deadline2) throw new Error('budget change not projected');
      await new Promise((r) => setTimeout(r, 200));
    }
    // Removed.
    expect(
      (await api(svc.url, 'PUT', `/v1/workspaces/${ws}/budget`, key, { monthly_limit: null })).status,
    ).toBe(200);
    const deadline3 = Date.now() + 15_000;
    while ((await api(svc.url, 'GET', '/v1/spend/current', key)).body.budget !== null) {
      if (Date.now() > deadline3) throw new Error('budget removal not projected');
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  it("a workspace cannot touch another's budget; bad input is a 400 naming the field", async () => {
    const r = await api(svc.url, 'PUT', `/v1/workspaces/${other}/budget`, keys.get(ws)!, {
      monthly_limit: '5.00',
    });
    expect([403, 404]).toContain(r.status);
    const cases: [unknown, string][] = [
      [{ monthly_limit: 500 }, 'monthly_limit'],
      [{ monthly_limit: '12.345' }, 'monthly_limit'],
      [{}, 'monthly_limit'],
      [{ monthly_limit: '5.00', thresholds: [0] }, 'thresholds'],
      [{ monthly_limit: '5.00', thresholds: [50.5] }, 'thresholds'],
      [{ monthly_limit: '5.00', thresholds: '50' }, 'thresholds'],
    ];
    for (const [body, field] of cases) {
      const bad = await api(svc.url, 'PUT', `/v1/workspaces/${ws}/budget`, keys.get(ws)!, body);
      expect([JSON.stringify(body), bad.status]).toEqual([JSON.stringify(body), 400]);
      expect(bad.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
    }
  });
});
