import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { chReader } from './support/clickhouse';
import { api, postEvents } from './support/http';
import { monthBack, usageEvents } from './support/billing';
import { ServiceProcess } from './support/service-process';
import { ADMIN_KEY, isolatedEnv } from './support/test-env';

/** Debian's Chromium, installed by `stack.sh up` (chromium); Playwright's own download is not reachable here. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ROOT = join(__dirname, '..');

/**
 * The dashboard in a real browser (issue 13): headless Chromium, driven by playwright-core,
 * against the real service and stack. What jsdom cannot see — CSS that decides what is shown,
 * the browser's own requests and console — is checked here.
 */
describe('dashboard in Chromium: signs in, shows only its workspace, signs out', () => {
  const tag = randomBytes(3).toString('hex');
  const ws = `br${tag}-a`;
  const other = `br${tag}-b`;
  let svc: ServiceProcess;
  let ch: ReturnType<typeof chReader>;
  let browser: Browser;
  let key: string;

  beforeAll(async () => {
    const env = await isolatedEnv('browser');
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
    const now = Date.now();
    const { events } = usageEvents({
      workspaces: [ws, other],
      perWorkspace: 30,
      fromMs: Math.max(monthBack(0).start, now - 48 * 3_600_000),
      toMs: now - 60_000,
      seed: 131,
      idPrefix: `b${tag}`,
    });
    await postEvents(svc.url, events);
    const deadline = Date.now() + 60_000;
    while ((await ch.totals()).hourlyEvents !== BigInt(events.length)) {
      if (Date.now() > deadline) throw new Error('events not stored');
      await new Promise((r) => setTimeout(r, 250));
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  });

  afterAll(async () => {
    await browser?.close();
    await svc?.kill();
    await ch?.close();
  });

  /** A fresh page that records its console errors, failed requests and every URL it asks for. */
  async function openPage(): Promise<{ page: Page; problems: string[]; requested: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
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
    await page.waitForFunction(() => document.body.dataset.state !== undefined);
  }

  it('hides the sign-in form once signed in, shows the API’s numbers, and asks for nothing of another workspace', async () => {
    const { page, problems, requested } = await openPage();
    await signIn(page, key);
    expect(await page.evaluate(() => document.body.dataset.state)).toBe('loaded');
    // What a person sees: the form is gone (CSS must not override `hidden`), the dashboard is there.
    expect(await page.locator('#sign-in').isVisible()).toBe(false);
    expect(await page.locator('#dashboard').isVisible()).toBe(true);
    expect(await page.getByRole('button', { name: 'Sign out' }).isVisible()).toBe(true);
    const spend = (await api(svc.url, 'GET', '/v1/spend/current', key)).body;
    const spendText = await page.locator('#spend').innerText();
    expect(spendText).toContain(`${spend.spend_so_far.amount} USD`);
    expect(await page.locator('#who').innerText()).toContain(ws);
    const usage = (await api(svc.url, 'GET', '/v1/usage?window=day&group_by=gpu_type', key)).body;
    expect(usage.rows.length).toBeGreaterThan(0);
    const days = new Set(usage.rows.map((r: { window_start: string }) => r.window_start.slice(0, 10)));
    expect(await page.locator('#daily tbody tr').count()).toBe(days.size);
    const [first] = usage.rows as { window_start: string; gpu_type: string; amount: string }[];
    const cell = page
      .locator('#daily tbody tr', { has: page.locator('th', { hasText: first.window_start.slice(0, 10) }) })
      .locator(`td[data-gpu-type="${first.gpu_type}"] .amount`);
    expect(await cell.innerText()).toBe(first.amount);
    expect(await page.locator('#as-of').innerText()).toMatch(/^Data as of \d\d:\d\d:\d\d UTC/);
    mkdirSync(join(ROOT, 'docs'), { recursive: true });
    await page.screenshot({ path: join(ROOT, 'docs', 'dashboard.png'), fullPage: true });
    // Only this origin, and never the other workspace's id.
    expect(requested.length).toBeGreaterThan(3);
    for (const url of requested) {
      expect(new URL(url).origin).toBe(new URL(svc.url).origin);
      expect(url).not.toContain(other);
    }
    expect(problems).toEqual([]);
    await page.close();
  });

  it('downloads the month’s usage as CSV, equal to the workspace’s own export', async () => {
    const { page, problems } = await openPage();
    await signIn(page, key);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: /Download this month/ }).click(),
    ]);
    const saved = readFileSync(await download.path(), 'utf8');
    const month = monthBack(0);
    const from = new Date(month.start).toISOString();
    const to = new Date(month.end).toISOString();
    const res = await fetch(`${svc.url}/v1/exports/usage?from=${from}&to=${to}&format=csv`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(res.status).toBe(200);
    const expected = await res.text();
    expect(saved).toBe(expected);
    expect(saved.split('\n').length).toBeGreaterThan(2);
    expect(saved).not.toContain(other);
    expect(download.suggestedFilename()).toBe(`usage_${month.period}_${ws}.csv`);
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
});
