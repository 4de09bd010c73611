import { randomBytes } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import { chReader } from './support/clickhouse';
import { api, postEvents } from './support/http';
import {
  createPlannedWorkspaces,
  LOCALSTRIPE_BILLING_ENV,
  monthBack,
  runInvoiceMonth,
  usageEvents,
} from './support/billing';
import { ServiceProcess } from './support/service-process';
import { ADMIN_KEY, isolatedEnv } from './support/test-env';
import {
  addRational,
  centsToString,
  decimal,
  LIST,
  OracleEvent,
  oracleInvoice,
  oracleUsage,
  PLANS,
  quantityMs,
  Rational,
  roundCents,
  sameRational,
  toCents,
  withPrices,
} from './support/invoice-oracle';

/**
 * Finance exports against the real stack: the usage export's exact amounts, summed per
 * workspace and charge and rounded once, are the invoice's lines; CSV and JSONL carry the
 * same records; customer text cannot run as a spreadsheet formula; operator only. Every amount
 * is checked against the independent oracle (test/support/invoice-oracle.ts: integer
 * arithmetic on the generated events), never against the service's own money code.
 */
async function download(url: string, token: string | null) {
  const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

function jsonl(text: string): Record<string, string>[] {
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Record<string, string>);
}

describe('exports: rated usage and invoice lines, streamed', () => {
  const tag = randomBytes(3).toString('hex');
  const workspaces = ['a', 'b', 'c'].map((x) => `ex${tag}-${x}`);
  const month = monthBack(2);
  // A price change inside an hour: the export has one record per piece of that hour.
  const cutAt = month.start + 9 * 86_400_000 + 15 * 3_600_000 + 41 * 60_000 + 3_217;
  const cutHour = cutAt - (cutAt % 3_600_000);
  const formula = '=HYPERLINK("http://evil.test","x")';
  // One workspace whose month is one hour of one GPU type, app and function: one record in the
  // usage export, one row in /v1/usage, one line per charge on the invoice (issue 11).
  const single = `ex${tag}-one`;
  const singleHour = month.start + 3 * 86_400_000 + 10 * 3_600_000;
  const SINGLE_DURATIONS_MS = [7_300, 1_500];
  const SINGLE_EVENTS = SINGLE_DURATIONS_MS.length;
  let svc: ServiceProcess;
  let ch: ReturnType<typeof chReader>;
  let eventCount = 0;
  let keys: Record<string, string> = {};
  /** What the events are, as the oracle reads them (the formula app id changes no amount). */
  const oracleEvents: OracleEvent[] = [];
  const CHANGED = { gpu: { H100: '0.001210', A10G: '0.000333' }, cpu: '0.0000150' };
  const schedule = [
    { from_ms: 0, prices: LIST },
    { from_ms: cutAt, prices: withPrices(LIST, CHANGED) },
  ];
  const unitOf: Record<string, string> = { gpu: 'gpu_second', cpu: 'core_second', memory: 'gib_second' };
  const unitOfKey = (key: string) => unitOf[key.startsWith('gpu:') ? 'gpu' : key];
  const oracleFor = (ws: string) =>
    oracleUsage(
      oracleEvents.filter((e) => e.subject === ws),
      schedule,
      month.start,
      month.end,
    );

  beforeAll(async () => {
    const env = await isolatedEnv('exports', LOCALSTRIPE_BILLING_ENV);
    svc = await new ServiceProcess('exports', env, 'all').start();
    ch = chReader(env);
    keys = await createPlannedWorkspaces(svc.url, [...workspaces, single], (i) =>
      i === 0 ? 'team' : 'starter',
    );
    const change = await api(svc.url, 'POST', '/v1/catalog/price-changes', ADMIN_KEY, {
      effective_from: new Date(cutAt).toISOString(),
      gpu_per_second: CHANGED.gpu,
      cpu_per_core_second: CHANGED.cpu,
    });
    expect(change.status).toBe(201);
    const spread = usageEvents({
      workspaces,
      perWorkspace: 40,
      fromMs: month.start,
      toMs: month.end,
      seed: 61,
      idPrefix: `e${tag}`,
    });
    const around = usageEvents({
      workspaces,
      perWorkspace: 6,
      fromMs: cutHour - 1_800_000,
      toMs: cutHour + 5_400_000,
      seed: 62,
      idPrefix: `c${tag}`,
    });
    // 7.3 s and 1.5 s on one H100 each, with 2.5 cores and 1 GiB: 8.8 GPU-s, 22 core-s, 8.8 GiB-s.
    const oneHour = SINGLE_DURATIONS_MS.map((ms, i) => ({
      specversion: '1.0',
      id: `ct_${tag}_one_${i}:${singleHour + i * 60_000}`,
      source: 'agent://host-1',
      type: 'gpu.usage.v1',
      subject: single,
      time: new Date(singleHour + i * 60_000 + ms).toISOString(),
      data: {
        container_id: `ct_${tag}_one_${i}`,
        app_id: 'app_one',
        function_id: 'fn_one',
        gpu_type: 'H100',
        gpu_count: 1,
        started_at: new Date(singleHour + i * 60_000).toISOString(),
        ended_at: new Date(singleHour + i * 60_000 + ms).toISOString(),
        cpu_millicores: 2_500,
        memory_mib: 1_024,
        region: 'us-east',
      },
    }));
    const events = [...spread.events, ...around.events, ...oneHour];
    oracleEvents.push(
      ...spread.oracle,
      ...around.oracle,
      ...SINGLE_DURATIONS_MS.map((ms, i) => ({
        subject: single,
        gpu_type: 'H100',
        gpu_count: 1,
        started_ms: singleHour + i * 60_000,
        ended_ms: singleHour + i * 60_000 + ms,
        cpu_millicores: 2_500,
        memory_mib: 1_024,
      })),
    );
    // Customer text that a spreadsheet would run.
    (events[0].data as { app_id: string }).app_id = formula;
    eventCount = events.length;
    await postEvents(svc.url, events);
    const deadline = Date.now() + 120_000;
    while ((await ch.totals()).hourlyEvents !== BigInt(eventCount)) {
      if (Date.now() > deadline) throw new Error('events not stored');
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(await runInvoiceMonth(svc.url, month.period)).toMatchObject({ status: 'completed', errors: [] });
  });

  afterAll(async () => {
    await svc?.kill();
    await ch?.close();
  });

  const usageUrl = (format: string) =>
    `${svc.url}/v1/exports/usage?from=${new Date(month.start).toISOString()}&to=${new Date(month.end).toISOString()}&format=${format}`;

  it('one usage, one quantity string and one amount in /v1/usage, the usage export and the invoice line (issue 11)', async () => {
    const span = `from=${new Date(singleHour).toISOString()}&to=${new Date(singleHour + 3_600_000).toISOString()}`;
    const usage = await api(
      svc.url,
      'GET',
      `/v1/usage?workspace_id=${single}&${span}&window=hour&group_by=gpu_type`,
      ADMIN_KEY,
    );
    expect(usage.status).toBe(200);
    expect(usage.body.rows).toHaveLength(1);
    const u = usage.body.rows[0];
    const exported = await download(
      `${svc.url}/v1/exports/usage?${span}&workspace_id=${single}&format=jsonl`,
      ADMIN_KEY,
    );
    expect(exported.status).toBe(200);
    const records = jsonl(exported.text);
    expect(records).toHaveLength(1);
    const [r] = records;
    const listed = await api(
      svc.url,
      'GET',
      `/v1/invoices?period=${month.period}&workspace_id=${single}`,
      ADMIN_KEY,
    );
    const [inv] = listed.body.invoices;
    const line = (key: string) => inv.lines.find((l: { key: string }) => l.key === key);

    // The quantity, as each reader writes it: the same string, in the one format.
    expect([u.gpu_seconds, r.gpu_seconds, line('gpu:H100').quantity]).toEqual(['8.8', '8.8', '8.8']);
    expect([u.cpu_core_seconds, r.cpu_core_seconds, line('cpu').quantity]).toEqual(['22', '22', '22']);
    expect([u.memory_gib_seconds, r.memory_gib_seconds, line('memory').quantity]).toEqual([
      '8.8',
      '8.8',
      '8.8',
    ]);
    expect(usage.body.totals.gpu_seconds).toBe('8.8');
    // The amount: the export's exact amount is the oracle's, exactly; rounded half-up once it
    // is what the invoice line charges (per charge) and /v1/usage shows (the charges together).
    // 8.8 GPU-s × 0.001097 = 0.0096536; 22 core-s × 0.0000131 = 0.0002882; 8.8 GiB-s × 0.00000222 = 0.000019536.
    const want = oracleFor(single);
    let together: Rational = { n: 0n, d: 1n };
    for (const [key, amount] of [
      ['gpu:H100', r.gpu_amount],
      ['cpu', r.cpu_amount],
      ['memory', r.memory_amount],
    ]) {
      const o = want.get(key)!;
      expect([key, sameRational(decimal(amount), o)]).toEqual([key, true]);
      expect([key, line(key).amount]).toEqual([key, centsToString(roundCents(o.n, o.d))]);
      together = addRational(together, o);
    }
    expect(r.gpu_amount).toBe('0.0096536');
    expect(sameRational(decimal(r.amount), together)).toBe(true);
    expect(u.amount).toBe(centsToString(roundCents(together.n, together.d)));
    expect(line('gpu:H100').unit_price).toBe(r.gpu_unit_price);
  });

  it('usage export: exact amounts that add up, per workspace and charge, to the invoice lines', async () => {
    const got = await download(usageUrl('jsonl'), ADMIN_KEY);
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toContain('application/x-ndjson');
    const records = jsonl(got.text).filter((r) => workspaces.includes(r.workspace_id));
    expect(records.length).toBeGreaterThan(100);
    // Every event is counted once, in the span it started in.
    expect(records.reduce((a, r) => a + Number(r.events), 0)).toBe(eventCount - SINGLE_EVENTS);

    const sums = new Map<string, { quantityMs: bigint; amount: Rational }>();
    const add = (key: string, quantity: string, amount: string) => {
      const s = sums.get(key) ?? { quantityMs: 0n, amount: { n: 0n, d: 1n } };
      const unit = unitOfKey(key.split('|')[1]);
      sums.set(key, {
        quantityMs: s.quantityMs + quantityMs(quantity, unit),
        amount: addRational(s.amount, decimal(amount)),
      });
    };
    for (const r of records) {
      if (r.gpu_seconds !== '0') add(`${r.workspace_id}|gpu:${r.gpu_type}`, r.gpu_seconds, r.gpu_amount);
      if (r.cpu_core_seconds !== '0') add(`${r.workspace_id}|cpu`, r.cpu_core_seconds, r.cpu_amount);
      if (r.memory_gib_seconds !== '0')
        add(`${r.workspace_id}|memory`, r.memory_gib_seconds, r.memory_amount);
      const parts = [r.gpu_amount, r.cpu_amount, r.memory_amount].map(decimal).reduce(addRational);
      expect(sameRational(decimal(r.amount), parts)).toBe(true);
    }
    const listed = await api(svc.url, 'GET', `/v1/invoices?period=${month.period}`, ADMIN_KEY);
    let lines = 0;
    for (const ws of workspaces) {
      const want = oracleFor(ws);
      const inv = listed.body.invoices.find((x: { workspace_id: string }) => x.workspace_id === ws);
      const usageLines = inv.lines.filter((l: { kind: string }) => ['gpu', 'cpu', 'memory'].includes(l.kind));
      expect(usageLines.map((l: { key: string }) => l.key).sort()).toEqual([...want.keys()].sort());
      expect([...sums.keys()].filter((k) => k.startsWith(`${ws}|`)).sort()).toEqual(
        [...want.keys()].map((k) => `${ws}|${k}`).sort(),
      );
      for (const l of usageLines) {
        const o = want.get(l.key)!;
        const s = sums.get(`${ws}|${l.key}`)!;
        // The export adds up exactly to the oracle's usage, and the line is that rounded once.
        expect([l.key, s.quantityMs, sameRational(s.amount, o)]).toEqual([l.key, o.quantityMs, true]);
        expect([l.key, quantityMs(l.quantity, unitOfKey(l.key))]).toEqual([l.key, o.quantityMs]);
        expect([l.key, l.amount]).toEqual([l.key, centsToString(roundCents(o.n, o.d))]);
        lines++;
      }
    }
    expect(lines).toBeGreaterThan(15);

    // The cut hour comes in two pieces, each at its own prices.
    const pieces = records.filter(
      (r) => Date.parse(r.from) >= cutHour && Date.parse(r.to) <= cutHour + 3_600_000,
    );
    expect(pieces.some((r) => Date.parse(r.to) === cutAt)).toBe(true);
    expect(pieces.some((r) => Date.parse(r.from) === cutAt)).toBe(true);
    for (const r of pieces.filter((p) => Date.parse(p.from) === cutAt))
      expect(r.cpu_unit_price).toBe('0.0000150');
    for (const r of pieces.filter((p) => Date.parse(p.to) === cutAt))
      expect(r.cpu_unit_price).toBe('0.0000131');
  });

  it('CSV carries the same records as JSONL, with customer text defused', async () => {
    const [csv, lines] = await Promise.all([
      download(usageUrl('csv'), ADMIN_KEY),
      download(usageUrl('jsonl'), ADMIN_KEY),
    ]);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    expect(csv.headers.get('content-disposition')).toMatch(/attachment; filename="usage_.*\.csv"/);
    const rows = parse<Record<string, string>>(csv.text, { columns: true });
    const fromJsonl = jsonl(lines.text);
    expect(rows.length).toBe(fromJsonl.length);
    const withFormula = fromJsonl.flatMap((r, i) => (r.app_id === formula ? [i] : []));
    expect(withFormula.length).toBeGreaterThan(0);
    for (const i of withFormula) {
      expect(rows[i].app_id).toBe(`'${formula}`);
      rows[i].app_id = formula;
    }
    expect(rows).toEqual(fromJsonl);
  });

  it('invoice export: every line of every invoice of the period, as GET /v1/invoices shows it', async () => {
    const got = await download(`${svc.url}/v1/exports/invoices?period=${month.period}`, ADMIN_KEY);
    expect(got.status).toBe(200);
    const rows = parse<Record<string, string>>(got.text, { columns: true }).filter((r) =>
      workspaces.includes(r.workspace_id),
    );
    const listed = await api(svc.url, 'GET', `/v1/invoices?period=${month.period}`, ADMIN_KEY);
    const mine = listed.body.invoices.filter((x: { workspace_id: string }) =>
      workspaces.includes(x.workspace_id),
    );
    expect(mine).toHaveLength(3);
    const want = mine.flatMap(
      (inv: {
        id: string;
        total: string;
        status: string;
        stripe: { invoice_id: string };
        lines: { id: string; key: string; amount: string; quantity: string }[];
      }) =>
        inv.lines.map((l) => ({
          invoice_id: inv.id,
          status: inv.status,
          stripe_invoice_id: inv.stripe.invoice_id,
          invoice_total: inv.total,
          line_id: l.id,
          line_key: l.key,
          amount: l.amount,
          quantity: l.quantity,
        })),
    );
    expect(
      rows.map((r) => ({
        invoice_id: r.invoice_id,
        status: r.status,
        stripe_invoice_id: r.stripe_invoice_id,
        invoice_total: r.invoice_total,
        line_id: r.line_id,
        line_key: r.line_key,
        amount: r.amount,
        quantity: r.quantity,
      })),
    ).toEqual(expect.arrayContaining(want));
    expect(rows).toHaveLength(want.length);
    expect(rows.every((r) => r.status === 'pushed' && r.stripe_invoice_id.startsWith('in_'))).toBe(true);
    // Each invoice's lines add up to its total, and both are the oracle's invoice (its plan's
    // fee and credits, usage lines rounded once), line by line.
    for (const inv of mine) {
      const exported = rows.filter((r) => r.invoice_id === inv.id);
      const sum = exported.reduce((a, r) => a + toCents(r.amount), 0n);
      const o = oracleInvoice(
        oracleEvents.filter((e) => e.subject === inv.workspace_id),
        schedule,
        month.start,
        month.end,
        inv.workspace_id === workspaces[0] ? PLANS.team : PLANS.starter,
      );
      expect(new Map(exported.map((r) => [r.line_key, toCents(r.amount)]))).toEqual(o.lines);
      expect([sum, toCents(inv.total)]).toEqual([o.totalCents, o.totalCents]);
    }
    // One workspace's only.
    const one = await download(
      `${svc.url}/v1/exports/invoices?period=${month.period}&workspace_id=${workspaces[1]}&format=jsonl`,
      ADMIN_KEY,
    );
    expect(new Set(jsonl(one.text).map((r) => r.workspace_id))).toEqual(new Set([workspaces[1]]));
  });

  it('a workspace key exports its own usage, as the operator sees it, and nothing else (issue 13)', async () => {
    const own = workspaces[1];
    const mine = await download(usageUrl('jsonl'), keys[own]);
    expect(mine.status).toBe(200);
    const records = jsonl(mine.text);
    expect(records.length).toBeGreaterThan(0);
    expect(new Set(records.map((r) => r.workspace_id))).toEqual(new Set([own]));
    const asOperator = await download(`${usageUrl('jsonl')}&workspace_id=${own}`, ADMIN_KEY);
    expect(mine.text).toBe(asOperator.text);
    const named = await download(`${usageUrl('csv')}&workspace_id=${own}`, keys[own]);
    expect(named.status).toBe(200);
    expect(named.headers.get('content-disposition')).toContain(own);
    // Another workspace, existing or not: 404, as if it did not exist.
    for (const other of [workspaces[0], 'no-such-workspace']) {
      const theirs = await download(`${usageUrl('csv')}&workspace_id=${other}`, keys[own]);
      expect(theirs.status).toBe(404);
      expect(theirs.text).not.toContain(workspaces[0]);
    }
    const tooLong = await download(
      `${svc.url}/v1/exports/usage?from=2026-01-01T00:00:00Z&to=2026-06-01T00:00:00Z`,
      keys[own],
    );
    expect(tooLong.status).toBe(400);
    expect(JSON.parse(tooLong.text).error.details[0].field).toBe('to');
  });

  it('operator only for invoices and every workspace, and bad parameters are a 400 naming the field', async () => {
    const wsKey = (
      await api(svc.url, 'POST', '/v1/workspaces', ADMIN_KEY, {
        id: `ex${tag}-k`,
        name: 'k',
        email: 'k@x.test',
      })
    ).body.api_key;
    // A workspace key without usage: its own export, the header alone.
    const empty = await download(usageUrl('csv'), wsKey);
    expect(empty.status).toBe(200);
    expect(empty.text.trim().split('\n')).toHaveLength(1);
    expect((await download(usageUrl('csv'), null)).status).toBe(401);
    expect((await download(`${svc.url}/v1/exports/invoices?period=${month.period}`, wsKey)).status).toBe(403);
    const cases: [string, string][] = [
      [usageUrl('xlsx'), 'format'],
      [`${svc.url}/v1/exports/usage?from=2026-10-01T00:30:00Z&to=2026-10-02T00:00:00Z`, 'from'],
      [`${svc.url}/v1/exports/usage?from=2026-10-02T00:00:00Z&to=2026-10-01T00:00:00Z`, 'to'],
      [`${svc.url}/v1/exports/usage?to=2026-10-01T00:00:00Z`, 'from'],
      [`${svc.url}/v1/exports/invoices?period=2026-13`, 'period'],
      [`${svc.url}/v1/exports/invoices?period=2026-10&workspace_id=A%27;DROP`, 'workspace_id'],
    ];
    for (const [url, field] of cases) {
      const r = await download(url, ADMIN_KEY);
      expect([url, r.status]).toEqual([url, 400]);
      expect(JSON.parse(r.text).error.details.map((e: { field: string }) => e.field)).toContain(field);
    }
  });
});
