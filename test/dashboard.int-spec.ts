import { randomBytes } from 'node:crypto';
import { chReader } from './support/clickhouse';
import { api, postEvents } from './support/http';
import { LOCALSTRIPE_BILLING_ENV, monthBack, runInvoiceMonth, usageEvents } from './support/billing';
import { ServiceProcess } from './support/service-process';
import { waitFor } from './support/workload';
import { ADMIN_KEY, isolatedEnv } from './support/test-env';
import { openDashboard, signIn } from './support/dashboard-page';

/**
 * The dashboard page, its script run by jsdom against the real service: it signs in with a
 * workspace key and shows the numbers the API gives that workspace.
 */
describe('dashboard: GET / signs in with a workspace key and shows its usage, spend and invoices', () => {
  const tag = randomBytes(3).toString('hex');
  const ws = `db${tag}-a`;
  let svc: ServiceProcess;
  let ch: ReturnType<typeof chReader>;
  let key: string;

  beforeAll(async () => {
    // Last month is invoiced now, whatever the day: no grace hours (on the 1st–3rd it would only draft).
    const env = await isolatedEnv('dashboard', { ...LOCALSTRIPE_BILLING_ENV, INVOICE_GRACE_HOURS: '0' });
    svc = await new ServiceProcess('dashboard', env, 'all').start();
    ch = chReader(env);
    const created = await api(svc.url, 'POST', '/v1/workspaces', ADMIN_KEY, {
      id: ws,
      name: 'Dash',
      email: 'dash@x.test',
      plan: 'team',
    });
    key = created.body.api_key;
    const last = monthBack(1);
    const now = Date.now();
    const past = usageEvents({
      workspaces: [ws],
      perWorkspace: 10,
      fromMs: last.start,
      toMs: last.end,
      seed: 81,
      idPrefix: `p${tag}`,
    });
    const recent = usageEvents({
      workspaces: [ws],
      perWorkspace: 6,
      fromMs: Math.max(monthBack(0).start, now - 6 * 3_600_000),
      toMs: now - 60_000,
      seed: 82,
      idPrefix: `r${tag}`,
    });
    const all = [...past.events, ...recent.events];
    await postEvents(svc.url, all);
    const deadline = Date.now() + 60_000;
    while ((await ch.totals()).hourlyEvents !== BigInt(all.length)) {
      if (Date.now() > deadline) throw new Error('events not stored');
      await new Promise((r) => setTimeout(r, 250));
    }
    expect((await runInvoiceMonth(svc.url, last.period)).status).toBe('completed');
  });

  afterAll(async () => {
    // The chart library fails to load in jsdom (no matchMedia); the page goes on without it.
    // Any other script error is the page's own.
    expect(scriptErrors.filter((e) => !e.includes('matchMedia is not defined'))).toEqual([]);
    await svc?.kill();
    await ch?.close();
  });

  /** Script errors in the jsdom pages: uPlot's alone is expected (jsdom has no matchMedia). */
  const scriptErrors: string[] = [];

  const openPage = () => openDashboard(svc.url, scriptErrors);

  it('is served with a strict content security policy', async () => {
    const page = await fetch(`${svc.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    const script = await fetch(`${svc.url}/dashboard.js`);
    expect(script.headers.get('content-type')).toContain('text/javascript');
    // The chart library comes from the installed package, from this origin.
    const chartLibrary = await fetch(`${svc.url}/vendor/uplot.js`);
    expect(chartLibrary.status).toBe(200);
    expect(await chartLibrary.text()).toContain('uPlot');
    expect((await fetch(`${svc.url}/vendor/uplot.css`)).headers.get('content-type')).toContain('text/css');
  });

  // jsdom draws no canvas: this is the page where the chart cannot be drawn (the browser test
  // has the chart). Everything else must still be there, from the table.
  it('without a canvas: says the chart cannot be drawn, and shows the spend, the day × GPU type table, the upcoming invoice and the invoices as the API gives them', async () => {
    const dom = await openPage();
    expect(await signIn(dom, key)).toBe('loaded');
    const { document } = dom.window;
    const spend = (await api(svc.url, 'GET', '/v1/spend/current', key)).body;
    const usage = (await api(svc.url, 'GET', '/v1/usage?window=day&group_by=gpu_type', key)).body;
    const upcoming = (await api(svc.url, 'GET', '/v1/invoices/upcoming', key)).body;
    const invoices = (await api(svc.url, 'GET', '/v1/invoices', key)).body.invoices;

    expect(document.getElementById('who')!.textContent).toContain(ws);
    expect(document.querySelector('#card-spend .value')!.textContent).toBe(
      `${spend.spend_so_far.amount} USD`,
    );
    expect(document.querySelector('#card-credits .value')!.textContent).toBe(
      `${spend.credits_left.amount} USD`,
    );
    expect((document.getElementById('chart-unavailable') as unknown as { hidden: boolean }).hidden).toBe(
      false,
    );
    expect((document.getElementById('chart-figure') as unknown as { hidden: boolean }).hidden).toBe(true);
    // The day × GPU type pivot: each (day, GPU type) of the API in its cell, each day's total
    // the exact sum of its amounts.
    expect(usage.rows.length).toBeGreaterThan(0);
    const rowsByDay = new Map(
      [...document.querySelectorAll('#daily tbody tr')].map((tr) => [
        tr.querySelector('th')!.textContent,
        tr,
      ]),
    );
    const days = new Set(usage.rows.map((r: { window_start: string }) => r.window_start.slice(0, 10)));
    expect([...rowsByDay.keys()].sort()).toEqual([...days].sort());
    const cents = new Map<string, bigint>();
    for (const r of usage.rows as {
      window_start: string;
      gpu_type: string;
      gpu_seconds: string;
      amount: string;
    }[]) {
      const day = r.window_start.slice(0, 10);
      const cell = rowsByDay.get(day)!.querySelector(`td[data-gpu-type="${r.gpu_type}"]`)!;
      expect(cell.querySelector('.amount')!.textContent).toBe(r.amount);
      expect(cell.querySelector('.quantity')!.textContent).toBe(`${r.gpu_seconds} GPU-s`);
      cents.set(day, (cents.get(day) ?? 0n) + BigInt(r.amount.replace('.', '')));
    }
    for (const [day, total] of cents) {
      const shown = rowsByDay.get(day)!.querySelector('td.total')!.textContent;
      expect(BigInt(shown.replace('.', ''))).toBe(total);
    }
    expect(document.getElementById('as-of')!.textContent).toMatch(/^Data as of \d\d:\d\d:\d\d UTC/);
    expect(document.querySelectorAll('#invoice-lines tbody tr')).toHaveLength(upcoming.lines.length);
    expect(document.getElementById('invoice-total')!.textContent).toBe(`${upcoming.total} USD`);
    const listed = [...document.querySelectorAll('#invoices tbody tr')].map((tr) =>
      [...tr.querySelectorAll('td')].map((td) => td.textContent),
    );
    expect(invoices).toHaveLength(1);
    const monthName = new Date(`${invoices[0].period}-01T00:00:00Z`).toLocaleString('en', {
      month: 'long',
      year: 'numeric',
      timeZone: 'UTC',
    });
    expect(listed).toEqual([[monthName, invoices[0].id, 'pushed', `${invoices[0].total} USD`]]);
    dom.window.close();
  });

  it('GET /v1/usage/breakdown: the month rows of GET /v1/usage per app or function, top first, the rest as other', async () => {
    const month = monthBack(1);
    const span = `from=${new Date(month.start).toISOString()}&to=${new Date(month.end).toISOString()}`;
    for (const [by, keys] of [
      ['app_id', ['app_id']],
      ['function_id', ['app_id', 'function_id']],
    ] as const) {
      const usage = (
        await api(svc.url, 'GET', `/v1/usage?${span}&window=month&group_by=${keys.join(',')},gpu_type`, key)
      ).body;
      const all = (await api(svc.url, 'GET', `/v1/usage/breakdown?${span}&by=${by}`, key)).body;
      expect(all.other).toBeNull();
      // Every (entry, GPU type) cell is the API's month row, as it gave it.
      const cells = all.rows.flatMap(
        (r: Record<string, unknown> & { by_gpu_type: Record<string, string>[] }) =>
          r.by_gpu_type.map((c) => [...keys.map((k) => r[k]), c.gpu_type, c.gpu_seconds, c.amount].join(' ')),
      );
      const rows = usage.rows.map((r: Record<string, string>) =>
        [...keys.map((k) => r[k]), r.gpu_type, r.gpu_seconds, r.amount].join(' '),
      );
      expect(rows.length).toBeGreaterThan(1);
      expect([...cells].sort()).toEqual([...rows].sort());
      expect(all.totals.amount).toBe(usage.totals.amount);
      expect(all.totals.gpu_ms).toBe(usage.totals.gpu_ms);
      // Limited to 1: the first is the largest, the others summed into "other".
      const top = (await api(svc.url, 'GET', `/v1/usage/breakdown?${span}&by=${by}&limit=1`, key)).body;
      expect(top.rows).toEqual([all.rows[0]]);
      expect(top.other.count).toBe(all.rows.length - 1);
      const cents = (a: string) => BigInt(a.replace('.', ''));
      expect(cents(top.other.amount)).toBe(
        all.rows.slice(1).reduce((s: bigint, r: { amount: string }) => s + cents(r.amount), 0n),
      );
    }
    const bad = await api(svc.url, 'GET', '/v1/usage/breakdown?by=region', key);
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('by must be app_id or function_id');
    expect((await api(svc.url, 'GET', '/v1/usage/breakdown?limit=0', key)).status).toBe(400);
    // A workspace key names only its own workspace; the operator names one.
    expect((await api(svc.url, 'GET', '/v1/usage/breakdown?workspace_id=someone-else', key)).status).toBe(
      404,
    );
    const operator = await api(svc.url, 'GET', `/v1/usage/breakdown?${span}&workspace_id=${ws}`, ADMIN_KEY);
    expect(operator.status).toBe(200);
    expect(operator.body.totals.amount).toBe(
      (await api(svc.url, 'GET', `/v1/usage/breakdown?${span}`, key)).body.totals.amount,
    );
  });

  it('a credit grant: the credits card names what the grants have left, as spend/current says', async () => {
    const granted = await api(svc.url, 'POST', `/v1/workspaces/${ws}/credit-grants`, ADMIN_KEY, {
      amount: '5000.00',
      kind: 'prepaid',
      reason: 'dashboard test',
      effective_at: new Date(monthBack(0).start).toISOString(),
    });
    expect(granted.status).toBe(201);
    const dom = await openPage();
    expect(await signIn(dom, key)).toBe('loaded');
    const spend = (await api(svc.url, 'GET', '/v1/spend/current', key)).body;
    expect(spend.credit_grants.map((g: { grant_id: string }) => g.grant_id)).toEqual([granted.body.grant_id]);
    // The month's usage so far is covered first by the plan's credits, then by the grant.
    expect(Number(spend.credit_balance.amount)).toBeLessThanOrEqual(5000);
    expect(dom.window.document.querySelector('#card-credits .note')!.textContent).toContain(
      `credit grants: ${spend.credit_balance.amount} USD left`,
    );
    dom.window.close();
  });

  it('a threshold invoice this month: the spend card says what was charged mid-month, as spend/current does', async () => {
    const other = `db${tag}-t`;
    const created = await api(svc.url, 'POST', '/v1/workspaces', ADMIN_KEY, {
      id: other,
      name: 'Thresholds',
      email: 't@x.test',
      plan: 'starter',
    });
    expect(created.status).toBe(201);
    const now = Date.now();
    const { events } = usageEvents({
      workspaces: [other],
      perWorkspace: 40,
      fromMs: Math.max(monthBack(0).start, now - 6 * 3_600_000),
      toMs: now - 60_000,
      seed: 83,
      idPrefix: `t${tag}`,
    });
    const before = (await ch.totals()).hourlyEvents;
    await postEvents(svc.url, events);
    await waitFor(
      'events stored',
      () => ch.totals(),
      (t) => t.hourlyEvents === before + BigInt(events.length),
    );
    expect(
      (
        await api(svc.url, 'PUT', `/v1/workspaces/${other}/billing-threshold`, ADMIN_KEY, {
          billing_threshold: '1.00',
        })
      ).status,
    ).toBe(200);
    expect(await runInvoiceMonth(svc.url, monthBack(0).period, 'threshold')).toMatchObject({
      status: 'completed',
      counts: { finalized: 1 },
    });
    const dom = await openPage();
    expect(await signIn(dom, created.body.api_key)).toBe('loaded');
    const spend = (await api(svc.url, 'GET', `/v1/spend/current?workspace_id=${other}`, ADMIN_KEY)).body;
    expect(spend.threshold_invoices.map((t: { id: string }) => t.id)).toEqual([
      `inv_${monthBack(0).period}_${other}_t1`,
    ]);
    const { document } = dom.window;
    expect(document.querySelector('#card-spend .value')!.textContent).toBe(
      `${spend.spend_so_far.amount} USD`,
    );
    expect(document.querySelector('#card-spend .note')!.textContent).toContain(
      `charged mid-month ${spend.billed_on_threshold_invoices.amount} USD (1 invoice)`,
    );
    // The threshold invoice is in the invoice list, pushed.
    expect(document.getElementById('invoices')!.textContent).toContain(
      `inv_${monthBack(0).period}_${other}_t1`,
    );
    dom.window.close();
  });

  it('refuses a key that is not a workspace key, and shows nothing', async () => {
    for (const wrong of ['gpm_ws_not-a-real-key', ADMIN_KEY]) {
      const dom = await openPage();
      expect(await signIn(dom, wrong)).toBe('error');
      const { document } = dom.window;
      expect((document.getElementById('dashboard') as unknown as { hidden: boolean }).hidden).toBe(true);
      expect(document.getElementById('sign-in-error')!.textContent).toContain('not accepted');
      expect(dom.window.sessionStorage.getItem('gpumeter.workspace_key')).toBeNull();
      dom.window.close();
    }
  });
});
