import { request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { chReader } from './support/clickhouse';
import { api, createWorkspace, postEvents } from './support/http';
import { LOCALSTRIPE_BILLING_ENV, monthBack, runInvoiceMonth, usageEvents } from './support/billing';
import { ServiceProcess } from './support/service-process';
import { ADMIN_KEY, isolatedEnv } from './support/test-env';
import { waitFor } from './support/workload';

/**
 * Reads with a bound (issue 10, finding 7), on the real service: hourly answers capped at
 * 31 days, invoice lists paginated the way Stripe does, and an export whose client walks
 * away while the stream is backed up ends at once instead of waiting forever.
 */
describe('bounded reads', () => {
  const tag = randomBytes(3).toString('hex');
  const month = monthBack(1);
  const workspaces = Array.from({ length: 5 }, (_, i) => `br${tag}-${i}`);
  let svc: ServiceProcess;
  let key: string;

  beforeAll(async () => {
    const env = await isolatedEnv('bounded', { ...LOCALSTRIPE_BILLING_ENV, INVOICE_GRACE_HOURS: '0' });
    svc = await new ServiceProcess('bounded', env, 'all').start();
    for (const ws of workspaces) {
      const k = await createWorkspace(svc.url, ws);
      if (ws === workspaces[0]) key = k;
    }
    // Enough usage that an export is far larger than the socket buffers between us: every
    // event its own app, so every event is its own export record.
    const { events } = usageEvents({
      workspaces,
      perWorkspace: 8_000,
      fromMs: month.start,
      toMs: month.end,
      seed: 7,
      idPrefix: `b${tag}`,
    });
    for (const [i, e] of events.entries())
      (e.data as { app_id: string }).app_id = `app-${'x'.repeat(110)}-${i}`;
    await postEvents(svc.url, events);
    const ch = chReader(env);
    await waitFor(
      'usage stored',
      () => ch.totals(),
      (t) => t.hourlyEvents === BigInt(events.length),
      120_000,
    );
    await ch.close();
  }, 300_000);

  afterAll(async () => {
    await svc?.kill();
  });

  it('window=hour is capped at 31 days, a 400 naming window', async () => {
    const from = new Date(month.start).toISOString();
    const over = new Date(month.start + 32 * 86_400_000).toISOString();
    const r = await api(svc.url, 'GET', `/v1/usage?window=hour&from=${from}&to=${over}`, key);
    expect(r.status).toBe(400);
    expect(r.body.error.details[0].field).toBe('window');
    const ok = new Date(month.start + 31 * 86_400_000).toISOString();
    expect((await api(svc.url, 'GET', `/v1/usage?window=hour&from=${from}&to=${ok}`, key)).status).toBe(200);
    expect((await api(svc.url, 'GET', `/v1/usage?window=day&from=${from}&to=${over}`, key)).status).toBe(200);
  });

  it('an export abandoned while backed up ends at once, ten times over; the next export is whole', async () => {
    const path = `/v1/exports/usage?from=${new Date(month.start).toISOString()}&to=${new Date(month.end).toISOString()}&format=jsonl`;
    const abandonedBefore = await svc.metric('gpumeter_exports_total', 'abandoned');
    const rssBefore = await svc.metric('process_resident_memory_bytes');
    for (let i = 0; i < 10; i++) {
      await new Promise<void>((resolve, reject) => {
        const req = request(
          `${svc.url}${path}`,
          { headers: { authorization: `Bearer ${ADMIN_KEY}` } },
          (res) => {
            expect(res.statusCode).toBe(200);
            // Read one chunk, then stop reading: the server's writes back up; then walk away.
            res.once('data', () => {
              res.pause();
              setTimeout(() => {
                req.destroy();
                resolve();
              }, 500);
            });
          },
        );
        req.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(e)));
        req.end();
      });
    }
    await waitFor(
      'no export in flight',
      () => svc.metric('gpumeter_exports_in_flight'),
      (n) => n === 0,
      10_000,
    );
    expect((await svc.metric('gpumeter_exports_total', 'abandoned')) - abandonedBefore).toBe(10);
    const rssAfter = await svc.metric('process_resident_memory_bytes');
    expect(rssAfter - rssBefore).toBeLessThan(150 * 1024 * 1024);
    // The service still streams a whole export, every record once.
    const whole = await fetch(`${svc.url}${path}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    const lines = (await whole.text()).split('\n').filter((l) => l.length > 0);
    expect(lines.length).toBeGreaterThanOrEqual(workspaces.length * 8_000);
    expect(await svc.metric('gpumeter_exports_total', 'complete')).toBeGreaterThanOrEqual(1);
  }, 120_000);

  it('GET /v1/invoices pages with limit, starting_after and has_more; the export reads every page', async () => {
    const run = await runInvoiceMonth(svc.url, month.period);
    expect(run.status).toBe('completed');
    const all = await api(svc.url, 'GET', `/v1/invoices?period=${month.period}`, ADMIN_KEY);
    expect(all.status).toBe(200);
    expect(all.body.invoices).toHaveLength(5);
    expect(all.body.has_more).toBe(false);
    const seen: string[] = [];
    let after: string | undefined;
    const hasMore: boolean[] = [];
    for (;;) {
      const q = `/v1/invoices?period=${month.period}&limit=2${after ? `&starting_after=${after}` : ''}`;
      const page = await api(svc.url, 'GET', q, ADMIN_KEY);
      expect(page.status).toBe(200);
      seen.push(...page.body.invoices.map((i: { id: string }) => i.id));
      hasMore.push(page.body.has_more);
      if (!page.body.has_more) break;
      after = page.body.invoices[page.body.invoices.length - 1].id;
    }
    expect(hasMore).toEqual([true, true, false]);
    expect(seen).toEqual(all.body.invoices.map((i: { id: string }) => i.id));
    for (const [bad, field] of [
      ['limit=0', 'limit'],
      ['limit=101', 'limit'],
      ['limit=two', 'limit'],
      ['starting_after=inv_nope', 'starting_after'],
    ]) {
      const r = await api(svc.url, 'GET', `/v1/invoices?${bad}`, ADMIN_KEY);
      expect({ bad, status: r.status, field: r.body.error?.details?.[0]?.field }).toEqual({
        bad,
        status: 400,
        field,
      });
    }
    // A workspace pages through its own only; another's invoice is not a cursor for it.
    const own = await api(svc.url, 'GET', `/v1/invoices?limit=1`, key);
    expect(own.body.invoices.map((i: { workspace_id: string }) => i.workspace_id)).toEqual([workspaces[0]]);
    const foreign = all.body.invoices.find(
      (i: { workspace_id: string }) => i.workspace_id !== workspaces[0],
    ).id;
    expect((await api(svc.url, 'GET', `/v1/invoices?starting_after=${foreign}`, key)).status).toBe(400);
    // The invoice export pages too (500 invoices a page) and still holds every line once.
    const exported = await fetch(`${svc.url}/v1/exports/invoices?period=${month.period}&format=jsonl`, {
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    const lines = (await exported.text()).split('\n').filter((l) => l.length > 0);
    const lineCount = all.body.invoices.reduce((n: number, i: { lines: unknown[] }) => n + i.lines.length, 0);
    expect(lines).toHaveLength(lineCount);
  }, 240_000);
});
