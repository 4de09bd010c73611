import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { chReader } from './support/clickhouse';
import { api, postEvents } from './support/http';
import { LOCALSTRIPE_BILLING_ENV, monthBack, runInvoiceMonth, usageEvents } from './support/billing';
import { ServiceProcess } from './support/service-process';
import { ADMIN_KEY, isolatedEnv } from './support/test-env';
import { SEED_GPU_TYPES } from '../src/catalog/gpu-types';
import { WebhookReceiver } from './support/webhook-receiver';

/** Debian's Chromium, installed by `stack.sh up` (chromium); Playwright's own download is not reachable here. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ROOT = join(__dirname, '..');
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

type Cell = { gpu_type: string; gpu_seconds: string; amount: string };
type Entry = {
  app_id: string;
  function_id?: string;
  gpu_seconds: string;
  amount: string;
  by_gpu_type: Cell[];
};
type Breakdown = {
  gpu_types: string[];
  rows: Entry[];
  other: (Entry & { count: number }) | null;
  totals: Omit<Entry, 'app_id'>;
};
type UsageRow = { window_start: string; gpu_type: string; gpu_seconds: string; amount: string };

/**
 * The dashboard in a real browser (issue 13): headless Chromium, driven by playwright-core,
 * against the real service and stack. Every figure on screen is compared with what the API
 * gives the same key; what jsdom cannot see — CSS that decides what is shown, the chart's
 * canvas and tooltip, the browser's own requests and console, keyboard focus, contrast — is
 * checked here.
 */
describe('dashboard in Chromium: cards, chart, pivot, breakdowns, any month, download, sign-out', () => {
  const tag = randomBytes(3).toString('hex');
  const ws = `br${tag}-a`;
  const other = `br${tag}-b`;
  const receiver = new WebhookReceiver();
  let svc: ServiceProcess;
  let ch: ReturnType<typeof chReader>;
  let browser: Browser;
  let key: string;
  let stored = 0;
  const last = monthBack(1);
  const current = monthBack(0);

  async function waitStored(count: number) {
    const deadline = Date.now() + 60_000;
    while ((await ch.totals()).hourlyEvents !== BigInt(count)) {
      if (Date.now() > deadline) throw new Error('events not stored');
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  beforeAll(async () => {
    await receiver.start();
    // Last month is invoiced now, whatever the day: no grace hours.
    const env = await isolatedEnv('browser', { ...LOCALSTRIPE_BILLING_ENV, INVOICE_GRACE_HOURS: '0' });
    svc = await new ServiceProcess('browser', env, 'all').start();
    ch = chReader(env);
    const keys: Record<string, string> = {};
    for (const id of [ws, other]) {
      const created = await api(svc.url, 'POST', '/v1/workspaces', ADMIN_KEY, {
        id,
        name: `Browser ${id}`,
        email: `${id}@x.test`,
        plan: 'team',
      });
      expect(created.status).toBe(201);
      keys[id] = created.body.api_key;
    }
    key = keys[ws];
    // A budget whose first thresholds the plan fee alone reaches, and an endpoint told of them.
    expect(
      (
        await api(svc.url, 'PUT', `/v1/workspaces/${ws}/budget`, key, {
          monthly_limit: '400.00',
          thresholds: [50, 80, 100],
        })
      ).status,
    ).toBe(200);
    const endpoint = await api(svc.url, 'POST', '/v1/webhook-endpoints', key, {
      url: receiver.url('/alerts'),
      events: ['usage.threshold_reached', 'budget.exceeded', 'budget.forecast_exceeded'],
    });
    expect(endpoint.status).toBe(201);
    receiver.secrets.set('/alerts', [endpoint.body.secret]);
    const now = Date.now();
    // 24 apps (a top 20 and "other"), five GPU types, last month and the last two days.
    const past = usageEvents({
      workspaces: [ws, other],
      perWorkspace: 60,
      fromMs: last.start,
      toMs: last.end,
      seed: 132,
      idPrefix: `p${tag}`,
      apps: 24,
    });
    const recent = usageEvents({
      workspaces: [ws, other],
      perWorkspace: 60,
      fromMs: Math.max(current.start, now - 48 * 3_600_000),
      toMs: now - 60_000,
      seed: 131,
      idPrefix: `b${tag}`,
      apps: 24,
    });
    const events = [...past.events, ...recent.events];
    await postEvents(svc.url, events);
    stored = events.length;
    await waitStored(stored);
    expect((await runInvoiceMonth(svc.url, last.period)).status).toBe('completed');
    // The alert reached and delivered, before the page shows it.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const alerts = (await api(svc.url, 'GET', `/v1/workspaces/${ws}/budget/alerts`, key)).body.alerts;
      if (
        alerts.length > 0 &&
        alerts.every((a: { notified: { status: string }[] }) => a.notified[0]?.status === 'succeeded')
      )
        break;
      if (Date.now() > deadline) throw new Error(`alerts not delivered: ${JSON.stringify(alerts)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  });

  afterAll(async () => {
    await browser?.close();
    await svc?.kill();
    await ch?.close();
    await receiver.stop();
  });

  const get = async (path: string) => {
    const res = await api(svc.url, 'GET', path, key);
    expect(res.status).toBe(200);
    return res.body;
  };
  const spanOf = (m: { start: number; end: number }, isCurrent: boolean) =>
    isCurrent
      ? `from=${new Date(m.start).toISOString()}`
      : `from=${new Date(m.start).toISOString()}&to=${new Date(m.end).toISOString()}`;

  /** A fresh page that records its console errors, failed requests and every URL it asks for. */
  async function openPage(
    options: { clock?: boolean } = {},
  ): Promise<{ page: Page; problems: string[]; requested: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    if (options.clock) await page.clock.install();
    const problems: string[] = [];
    const requested: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
    page.on('response', (r) => {
      if (r.status() >= 400) problems.push(`HTTP ${r.status()} for ${r.url()}`);
    });
    page.on('request', (r) => requested.push(r.url()));
    await page.goto(`${svc.url}/`);
    return { page, problems, requested };
  }

  async function signIn(page: Page, apiKey: string) {
    await page.getByLabel('Workspace API key').fill(apiKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForFunction(() => ['loaded', 'error'].includes(document.body.dataset.state ?? ''));
  }

  /** Waits for the next load to finish (the page says `loading` while it reads). */
  async function loaded(page: Page) {
    await page.waitForFunction(() => document.body.dataset.state === 'loaded');
  }

  /** The pivot on screen equals the API's day × GPU type rows, and each day's total their exact sum. */
  async function expectPivot(page: Page, rows: UsageRow[]) {
    const shown = await page.$$eval('#daily tbody tr', (trs) =>
      trs.map((tr) => ({
        day: tr.querySelector('th')!.textContent,
        cells: [...tr.querySelectorAll('td[data-gpu-type]')]
          .filter((td) => td.querySelector('.amount'))
          .map((td) => [
            (td as HTMLElement).dataset.gpuType,
            td.querySelector('.amount')!.textContent,
            td.querySelector('.quantity')!.textContent,
          ]),
        total: tr.querySelector('td.total')!.textContent,
      })),
    );
    const expected = new Map<string, { cells: string[][]; cents: bigint }>();
    for (const r of rows) {
      const day = r.window_start.slice(0, 10);
      const e = expected.get(day) ?? { cells: [], cents: 0n };
      e.cells.push([r.gpu_type, r.amount, `${r.gpu_seconds} GPU-s`]);
      e.cents += BigInt(r.amount.replace('.', ''));
      expected.set(day, e);
    }
    expect(shown.map((s) => s.day)).toEqual([...expected.keys()].sort());
    for (const s of shown) {
      const e = expected.get(s.day)!;
      expect(s.cells).toEqual(e.cells.sort((a, b) => (a[0] < b[0] ? -1 : 1)));
      expect(BigInt(s.total.replace('.', ''))).toBe(e.cents);
    }
  }

  /** A breakdown table equals the API's breakdown: its rows (in the order asked), other and total. */
  async function expectBreakdown(page: Page, tableId: string, data: Breakdown, order: Entry[] = data.rows) {
    const read = (selector: string) =>
      page.$$eval(selector, (trs) =>
        trs.map((tr) => [
          tr.querySelector('th')!.textContent,
          ...[...tr.querySelectorAll('td')].map((td) =>
            td.querySelector('.amount')
              ? `${td.querySelector('.amount')!.textContent} ${td.querySelector('.quantity')!.textContent}`
              : td.textContent,
          ),
        ]),
      );
    const line = (label: string, e: Omit<Entry, 'app_id'>) => [
      label,
      e.amount,
      e.gpu_seconds,
      ...data.gpu_types.map((t) => {
        const c = e.by_gpu_type.find((x) => x.gpu_type === t);
        return c ? `${c.amount} ${c.gpu_seconds} GPU-s` : '—';
      }),
    ];
    const name = (e: Entry) => (e.function_id === undefined ? e.app_id : `${e.app_id} / ${e.function_id}`);
    expect(await read(`#${tableId} tbody tr`)).toEqual(order.map((e) => line(name(e), e)));
    const noun = tableId === 'by-app' ? 'app' : 'function';
    const foot = await read(`#${tableId} tfoot tr`);
    expect(foot).toEqual([
      ...(data.other
        ? [line(`Other (${data.other.count} ${noun}${data.other.count === 1 ? '' : 's'})`, data.other)]
        : []),
      line('Total', data.totals),
    ]);
  }

  it('this month: the cards, chart, pivot and breakdowns are the API’s numbers, and nothing of another workspace is asked', async () => {
    const { page, problems, requested } = await openPage();
    // The forecast moves with the clock (usage so far ÷ time elapsed): the page's lies between two readings.
    const forecastBefore = (await get('/v1/spend/current')).forecast.total.amount;
    await signIn(page, key);
    expect(await page.evaluate(() => document.body.dataset.state)).toBe('loaded');
    // What a person sees: the form is gone (CSS must not override `hidden`), the dashboard is there.
    expect(await page.locator('#sign-in').isVisible()).toBe(false);
    expect(await page.locator('#dashboard').isVisible()).toBe(true);
    expect(await page.getByRole('button', { name: 'Sign out' }).isVisible()).toBe(true);
    expect(await page.locator('#month').inputValue()).toBe(current.period);

    // Cards.
    const spend = await get('/v1/spend/current');
    const upcoming = await get('/v1/invoices/upcoming');
    const cardText = async (id: string) => [
      await page.locator(`#${id} .value`).innerText(),
      await page.locator(`#${id} .note`).innerText(),
    ];
    expect((await cardText('card-spend'))[0]).toBe(`${spend.spend_so_far.amount} USD`);
    expect((await cardText('card-spend'))[1]).toContain(`usage ${spend.usage.amount} USD`);
    const forecast = (await cardText('card-forecast'))[0];
    expect(forecast).toMatch(/^\d+\.\d\d USD$/);
    const cents = (a: string) => BigInt(a.replace('.', ''));
    expect(cents(forecast.split(' ')[0])).toBeLessThanOrEqual(cents(forecastBefore));
    expect(cents(forecast.split(' ')[0])).toBeGreaterThanOrEqual(cents(spend.forecast.total.amount));
    expect(await cardText('card-credits')).toEqual([
      `${spend.credits_left.amount} USD`,
      `of ${spend.monthly_credits.amount} USD this month`,
    ]);
    expect(await cardText('card-plan')).toEqual([
      'team',
      `${upcoming.plan.base_fee} USD a month, ${upcoming.plan.monthly_credits} USD of credits`,
    ]);
    // The budget: spent percent of the limit, a bar with a mark per threshold, the alerts
    // reached and the endpoint each went to.
    expect((await cardText('card-budget'))[0]).toBe(`${spend.budget.spent_percent} % of 400.00 USD`);
    expect(await page.locator('#budget-bar').getAttribute('aria-valuetext')).toBe(
      `${spend.budget.spent_percent} % of the budget spent`,
    );
    expect(await page.locator('#budget-bar .mark').count()).toBe(3);
    expect(await page.locator('#budget-bar .mark.reached').count()).toBe(
      spend.budget.thresholds_reached.length,
    );
    const alerts = (await get(`/v1/workspaces/${ws}/budget/alerts`)).alerts as {
      type: string;
      threshold: number | null;
      spend: string;
    }[];
    expect(alerts.length).toBeGreaterThan(0);
    const shownAlerts = await page.locator('#budget-alerts li').allInnerTexts();
    expect(shownAlerts).toHaveLength(alerts.length);
    alerts.forEach((a, i) => {
      if (a.type === 'budget.threshold_reached')
        expect(shownAlerts[i]).toContain(`${a.threshold} % of the budget reached`);
      expect(shownAlerts[i]).toContain(`at ${a.spend} USD`);
      expect(shownAlerts[i]).toContain(`sent to ${receiver.url('/alerts')} (delivered)`);
    });

    // The chart: a canvas, one legend entry per GPU type, one series per type, and a tooltip
    // with the day's GPU-seconds and cost per type.
    const usage = await get(`/v1/usage?${spanOf(current, true)}&window=day&group_by=gpu_type`);
    const rows = usage.rows as UsageRow[];
    expect(rows.length).toBeGreaterThan(0);
    const types = [...new Set(rows.map((r) => r.gpu_type))].sort();
    expect(types.length).toBeGreaterThan(3);
    expect(await page.locator('#daily-chart canvas').count()).toBe(1);
    expect(await page.locator('#chart-legend li').allInnerTexts()).toEqual(types);
    expect(await page.locator('#daily-chart').getAttribute('aria-label')).toMatch(/^Cost per day in /);
    const day = rows[rows.length - 1].window_start.slice(0, 10);
    const overBox = (await page.locator('#daily-chart .u-over').boundingBox())!;
    // Point at the bar of that day: the x scale runs from half a day before the first day to
    // half a day after the last, so the day's centre is at (index + 0.5) / days of the width.
    const firstDay = Date.parse(`${current.period}-01T00:00:00Z`);
    const dayCount = Math.floor((Date.now() - firstDay) / 86_400_000) + 1;
    const index = (Date.parse(`${day}T00:00:00Z`) - firstDay) / 86_400_000;
    await page.mouse.move(
      overBox.x + ((index + 0.5) / dayCount) * overBox.width,
      overBox.y + overBox.height / 2,
    );
    const tooltip = page.locator('#chart-tooltip');
    await tooltip.waitFor({ state: 'visible' });
    const tip = await tooltip.innerText();
    expect(tip).toContain(day);
    for (const r of rows.filter((x) => x.window_start.startsWith(day)))
      expect(tip).toContain(`${r.gpu_type}: ${r.gpu_seconds} GPU-s · ${r.amount} USD`);
    // The toggle: GPU-seconds instead of cost.
    await page.getByLabel('GPU-seconds').check();
    expect(await page.locator('#daily-chart').getAttribute('aria-label')).toMatch(/^GPU-seconds per day in /);
    expect(await page.locator('#daily-chart canvas').count()).toBe(1);

    // The pivot and both breakdowns.
    await expectPivot(page, rows);
    const apps = (await get(`/v1/usage/breakdown?${spanOf(current, true)}&by=app_id&limit=20`)) as Breakdown;
    const functions = (await get(
      `/v1/usage/breakdown?${spanOf(current, true)}&by=function_id&limit=20`,
    )) as Breakdown;
    expect(apps.rows).toHaveLength(20);
    expect(apps.other!.count).toBe(4);
    await expectBreakdown(page, 'by-app', apps);
    await expectBreakdown(page, 'by-function', functions);
    expect(await page.locator('#as-of').innerText()).toMatch(/^Data as of \d\d:\d\d:\d\d UTC/);
    await page.getByLabel('Cost (USD)').check();
    await page.mouse.move(0, 0);
    // The screenshot is a test artifact (.local/test-artifacts/); the README's copy in docs/
    // changes only when asked (UPDATE_DOCS_SCREENSHOT=1), never as a side effect of a test run.
    const shotDir =
      process.env.UPDATE_DOCS_SCREENSHOT === '1'
        ? join(ROOT, 'docs')
        : join(ROOT, '.local', 'test-artifacts');
    mkdirSync(shotDir, { recursive: true });
    const shot = await page.screenshot({ path: join(shotDir, 'dashboard.png'), fullPage: true });
    expect(shot.subarray(1, 4).toString('latin1')).toBe('PNG');
    // Sortable: GPU-seconds, largest first, then smallest first; by name.
    const byMs = (a: Entry, b: Entry) => {
      const x = BigInt((a as Entry & { gpu_ms: string }).gpu_ms);
      const y = BigInt((b as Entry & { gpu_ms: string }).gpu_ms);
      return x < y ? -1 : x > y ? 1 : 0;
    };
    await page.locator('#by-app thead button', { hasText: 'GPU-seconds' }).click();
    expect(await page.locator('#by-app th[aria-sort]').innerText()).toContain('GPU-seconds');
    expect(await page.locator('#by-app th[aria-sort]').getAttribute('aria-sort')).toBe('descending');
    await expectBreakdown(page, 'by-app', apps, [...apps.rows].sort(byMs).reverse());
    await page.locator('#by-app thead button', { hasText: 'GPU-seconds' }).click();
    await expectBreakdown(page, 'by-app', apps, [...apps.rows].sort(byMs));
    await page.locator('#by-app thead button', { hasText: /^App/ }).click();
    await expectBreakdown(
      page,
      'by-app',
      apps,
      [...apps.rows].sort((a, b) => (a.app_id < b.app_id ? -1 : 1)),
    );

    // Only this origin, and never the other workspace's id.
    expect(requested.length).toBeGreaterThan(8);
    for (const url of requested) {
      expect(new URL(url).origin).toBe(new URL(svc.url).origin);
      expect(url).not.toContain(other);
    }
    expect(problems).toEqual([]);
    await page.close();
  });

  it('a past month: its finalized invoice, its days and its breakdowns', async () => {
    const { page, problems, requested } = await openPage();
    await signIn(page, key);
    await page.getByLabel('Month', { exact: true }).selectOption(last.period);
    await loaded(page);
    const [invoice] = (await get(`/v1/invoices?period=${last.period}`)).invoices;
    expect(invoice.status).toBe('pushed');
    expect(await page.locator('#invoice-title').innerText()).toContain('Invoice — ');
    expect(await page.locator('#invoice-status').innerText()).toContain(`${invoice.id} · pushed`);
    expect(await page.locator('#invoice-lines tbody tr').count()).toBe(invoice.lines.length);
    const amounts = await page.$$eval('#invoice-lines tbody tr', (trs) =>
      trs.map((tr) => tr.lastElementChild!.textContent),
    );
    expect(amounts).toEqual(invoice.lines.map((l: { amount: string }) => l.amount));
    expect(await page.locator('#invoice-total').innerText()).toBe(`${invoice.total} USD`);
    // Neither emulator gives a hosted invoice page: no link then.
    expect(invoice.stripe.hosted_invoice_url).toBeNull();
    expect(await page.locator('#invoice-link').isVisible()).toBe(false);
    expect(await page.locator('#card-spend .value').innerText()).toBe(`${invoice.total} USD`);
    expect(await page.locator('#card-forecast').isVisible()).toBe(false);
    const usage = await get(`/v1/usage?${spanOf(last, false)}&window=day&group_by=gpu_type`);
    await expectPivot(page, usage.rows);
    await expectBreakdown(
      page,
      'by-app',
      await get(`/v1/usage/breakdown?${spanOf(last, false)}&by=app_id&limit=20`),
    );
    await expectBreakdown(
      page,
      'by-function',
      await get(`/v1/usage/breakdown?${spanOf(last, false)}&by=function_id&limit=20`),
    );
    // The invoice list shows it; its month button brings this month back too.
    expect(await page.locator('#invoices tbody tr').count()).toBe(1);
    for (const url of requested) expect(url).not.toContain(other);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('a month without usage or invoice says so, in every part of the page', async () => {
    const { page, problems } = await openPage();
    await signIn(page, key);
    const empty = monthBack(6);
    await page.getByLabel('Month', { exact: true }).selectOption(empty.period);
    await loaded(page);
    const name = new Date(empty.start).toLocaleString('en', {
      month: 'long',
      year: 'numeric',
      timeZone: 'UTC',
    });
    expect(await page.locator('#daily-empty').innerText()).toBe(`No usage in ${name}.`);
    expect(await page.locator('#chart-figure').isVisible()).toBe(false);
    expect(await page.locator('#daily').isVisible()).toBe(false);
    expect(await page.locator('#by-app tbody').innerText()).toBe('No usage by app in this month.');
    expect(await page.locator('#by-function tbody').innerText()).toBe('No usage by function in this month.');
    expect(await page.locator('#invoice-status').innerText()).toContain('No invoice for this month yet');
    expect(await page.locator('#card-spend .value').innerText()).toBe('0.00 USD');
    expect(await page.locator('#budget-alerts li').count()).toBe(0);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('downloads the month’s usage as CSV, equal to the workspace’s own export', async () => {
    const { page, problems } = await openPage();
    await signIn(page, key);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: /^Download .* usage \(CSV\)$/ }).click(),
    ]);
    const saved = readFileSync(await download.path(), 'utf8');
    const from = new Date(current.start).toISOString();
    const to = new Date(current.end).toISOString();
    const res = await fetch(`${svc.url}/v1/exports/usage?from=${from}&to=${to}&format=csv`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(res.status).toBe(200);
    const expected = await res.text();
    expect(saved).toBe(expected);
    expect(saved.split('\n').length).toBeGreaterThan(2);
    expect(saved).not.toContain(other);
    expect(download.suggestedFilename()).toBe(`usage_${current.period}_${ws}.csv`);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('is usable by keyboard and screen reader: axe finds no WCAG 2 A/AA violation (contrast included), and a sort works from the keyboard', async () => {
    const { page, problems } = await openPage();
    // Before sign-in, and after.
    await page.evaluate(AXE);
    const audit = () =>
      page.evaluate(async () => {
        type AxeResult = { violations: unknown[]; passes: { id: string }[] };
        const axe = (window as unknown as { axe: { run: (o: object) => Promise<AxeResult> } }).axe;
        const result = await axe.run({
          runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
        });
        return {
          violations: (result.violations as { id: string; nodes: { target: string[] }[] }[]).map(
            (v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
          ),
          passed: result.passes.map((p) => p.id),
        };
      });
    expect((await audit()).violations).toEqual([]);
    await signIn(page, key);
    const signedIn = await audit();
    expect(signedIn.violations).toEqual([]);
    // The rules that matter here ran, and passed (axe lists a rule only where it applies).
    expect(signedIn.passed).toEqual(
      expect.arrayContaining([
        'color-contrast',
        'label',
        'button-name',
        'th-has-data-cells',
        'aria-progressbar-name',
      ]),
    );
    // Tab from the top of the page to the by-app Amount heading, and sort with Enter.
    await page.locator('body').focus();
    let reached = false;
    for (let i = 0; i < 80 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate(
        () =>
          document.activeElement?.closest('#by-app thead') !== null &&
          document.activeElement?.textContent === 'Amount (USD)',
      );
    }
    expect(reached).toBe(true);
    await page.keyboard.press('Enter');
    expect(await page.locator('#by-app th[aria-sort]').getAttribute('aria-sort')).toBe('ascending');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Amount (USD)');
    // The month picker is a labelled select, reached and changed by keyboard too.
    await page.getByLabel('Month', { exact: true }).focus();
    await page.keyboard.press('ArrowDown');
    await loaded(page);
    expect(await page.locator('#month').inputValue()).toBe(last.period);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('usage stored after the page loaded shows on the next minute’s refresh, with a new data-as-of time', async () => {
    const { page, problems } = await openPage({ clock: true });
    await signIn(page, key);
    const before = await page.locator('#card-spend .value').innerText();
    const now = Date.now();
    const { events } = usageEvents({
      workspaces: [ws],
      perWorkspace: 5,
      fromMs: now - 3 * 3_600_000,
      toMs: now - 60_000,
      seed: 133,
      idPrefix: `f${tag}`,
    });
    await postEvents(svc.url, events);
    stored += events.length;
    await waitStored(stored);
    await page.evaluate(() => delete document.body.dataset.state);
    await page.clock.fastForward('01:01');
    await loaded(page);
    const spend = await get('/v1/spend/current');
    expect(await page.locator('#card-spend .value').innerText()).toBe(`${spend.spend_so_far.amount} USD`);
    expect(await page.locator('#card-spend .value').innerText()).not.toBe(before);
    await expectPivot(
      page,
      (await get(`/v1/usage?${spanOf(current, true)}&window=day&group_by=gpu_type`)).rows,
    );
    expect(problems).toEqual([]);
    await page.close();
  });

  it('signs out: the key is gone from storage and the form is back', async () => {
    const { page, problems } = await openPage();
    await signIn(page, key);
    expect(await page.evaluate(() => Object.values(sessionStorage))).toContain(key);
    await page.getByRole('button', { name: 'Sign out' }).click();
    expect(await page.evaluate(() => [sessionStorage.length, localStorage.length])).toEqual([0, 0]);
    expect(await page.locator('#sign-in').isVisible()).toBe(true);
    expect(await page.locator('#dashboard').isVisible()).toBe(false);
    expect(await page.locator('#month-picker').isVisible()).toBe(false);
    // A reload after sign-out does not sign in again.
    await page.reload();
    expect(await page.locator('#sign-in').isVisible()).toBe(true);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('refuses an operator key in the page, naming what to use', async () => {
    const { page } = await openPage();
    await signIn(page, ADMIN_KEY);
    expect(await page.locator('#sign-in-error').innerText()).toContain('workspace API key');
    expect(await page.locator('#dashboard').isVisible()).toBe(false);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await page.close();
  });

  it('says when the API cannot be reached, keeps what it showed, and loads again on request', async () => {
    const { page } = await openPage();
    await signIn(page, key);
    await page.route('**/v1/usage/breakdown*', (route) => route.fulfill({ status: 503, body: '{}' }));
    await page.getByRole('button', { name: /^Download/ }).waitFor();
    await page.evaluate(() => delete document.body.dataset.state);
    await page.getByLabel('Month', { exact: true }).selectOption(last.period);
    await page.waitForFunction(() => document.body.dataset.state === 'error');
    expect(await page.locator('#error').innerText()).toBe('Could not load: HTTP 503');
    expect(await page.locator('#dashboard').isVisible()).toBe(true);
    await page.unroute('**/v1/usage/breakdown*');
    await page.getByRole('button', { name: 'Try again' }).click();
    await loaded(page);
    expect(await page.locator('#problem').isVisible()).toBe(false);
    await page.close();
  });

  it('never scrolls sideways, at 1280 px or on a 390 px phone, with all nine GPU types: wide tables scroll inside their card', async () => {
    // One event of every GPU type this month, so the pivot and the breakdowns have nine columns.
    const now = Date.now();
    const nine = usageEvents({
      workspaces: [ws],
      perWorkspace: SEED_GPU_TYPES.length,
      fromMs: Math.max(current.start, now - 2 * 3_600_000),
      toMs: now - 60_000,
      seed: 133,
      idPrefix: `w${tag}`,
    }).events.map((e, i) => ({ ...e, data: { ...e.data, gpu_type: SEED_GPU_TYPES[i] } }));
    await postEvents(svc.url, nine);
    stored += nine.length;
    await waitStored(stored);
    for (const [width, height] of [
      [1280, 900],
      [390, 844],
    ]) {
      const { page, problems } = await openPage();
      await page.setViewportSize({ width, height });
      await signIn(page, key);
      expect(await page.$$eval('#daily thead th', (ths) => ths.length)).toBe(SEED_GPU_TYPES.length + 2);
      const overflow = await page.evaluate(() => ({
        page: document.documentElement.scrollWidth - document.documentElement.clientWidth,
        // Every element wider than the viewport is inside a region that scrolls on its own.
        escaping: [...document.querySelectorAll('body *')]
          .filter((el) => el.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
          .filter((el) => !el.closest('.scroll'))
          .map((el) => `${el.tagName.toLowerCase()}#${el.id}.${el.className}`),
      }));
      expect([width, overflow]).toEqual([width, { page: 0, escaping: [] }]);
      // On the phone the pivot is wider than its card and scrolls inside it.
      const pivot = await page.$eval('#daily', (t) => {
        const region = t.closest('.scroll')!;
        return { scrolls: region.scrollWidth > region.clientWidth, card: region.clientWidth };
      });
      if (width === 390) expect(pivot.scrolls).toBe(true);
      expect(pivot.card).toBeLessThanOrEqual(width);
      expect(problems).toEqual([]);
      await page.close();
    }
  });
});
