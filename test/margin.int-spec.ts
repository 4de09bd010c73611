import { randomBytes } from 'node:crypto';
import { chReader } from './support/clickhouse';
import { api, postEvents } from './support/http';
import { LOCALSTRIPE_BILLING_ENV, monthBack, runInvoiceMonth } from './support/billing';
import { LIST, PLANS, toCents, oracleListInvoice } from './support/invoice-oracle';
import { rng } from './support/workload';
import { ServiceProcess } from './support/service-process';
import { ADMIN_KEY, isolatedEnv } from './support/test-env';

const DAY = 86_400_000;
/** Amounts compared as integers of 10^-25 USD: exact for every price (≤ 12 decimals) and unit. */
const SCALE_DIGITS = 25;
const DIVISOR = { gpu: 1000n, cpu: 1_000_000n, memory: 1_024_000n };

function scaledPrice(price: string): bigint {
  const [i, f = ''] = price.split('.');
  return BigInt(i + f.padEnd(SCALE_DIGITS, '0'));
}
/** An exact decimal string as an integer of 10^-25 USD. */
function scaled(amount: string): bigint {
  const neg = amount.startsWith('-');
  const [i, f = ''] = amount.replace('-', '').split('.');
  return (neg ? -1n : 1n) * BigInt(i + f.padEnd(SCALE_DIGITS, '0'));
}
const centsScaled = (c: bigint) => c * 10n ** BigInt(SCALE_DIGITS - 2);

interface Ev {
  ws: string;
  provider: string;
  gpu: string;
  region: string;
  count: number;
  cpu: number;
  mem: number;
  start: number;
  end: number;
}

interface Cell {
  gpuMs: bigint;
  cpuMs: bigint;
  memMs: bigint;
  revenue: bigint;
  cost: bigint;
  credits: bigint;
  reasons: Set<string>;
}
const cell = (): Cell => ({
  gpuMs: 0n,
  cpuMs: 0n,
  memMs: 0n,
  revenue: 0n,
  cost: 0n,
  credits: 0n,
  reasons: new Set(),
});

/**
 * Margin by provider (issue 15, part 3), against an independent calculation: usage events of
 * several providers, GPU types and regions; a cost catalog whose costs change inside the month
 * (in the middle of an hour), a provider costed only from then on, one never costed, and events
 * with no provider; credits from the month's real invoices. Every row of the report — list
 * revenue, credits pro rata, cost, margin, margin %, uncovered usage and why — equals the
 * oracle, exactly; the CSV and JSONL exports carry the same figures.
 */
describe('margin by provider: revenue, credits pro rata, cost and margin, exact', () => {
  const tag = randomBytes(3).toString('hex');
  const [W1, W2] = ['a', 'b'].map((x) => `mg${tag}-${x}`);
  const month = monthBack(1);
  const costCut = month.start + 13 * DAY + 1_800_000 + 1234; // inside an hour
  let svc: ServiceProcess;
  let ch: ReturnType<typeof chReader>;
  let workspaceKey: string;
  const events: Ev[] = [];

  // The cost catalog as the oracle knows it (what the test posts).
  const costChanges = [
    {
      effective_from: new Date(month.start - 40 * DAY).toISOString(),
      provider: 'oci',
      gpu_per_second: { H100: '0.00062', A10G: '0.00011', L4: '0.00008' },
      cpu_per_core_second: '0',
      memory_per_gib_second: '0.0000004',
    },
    { effective_from: new Date(costCut).toISOString(), provider: 'oci', gpu_per_second: { H100: '0.00055' } },
    {
      effective_from: new Date(costCut).toISOString(),
      provider: 'aws',
      gpu_per_second: { H100: '0.00081', A10G: '0.00016', L4: '0.0001', B200: '0.0012' },
      cpu_per_core_second: '0.0000035',
      memory_per_gib_second: '0.0000005',
    },
  ];
  function costAt(
    provider: string,
    kind: 'gpu' | 'cpu' | 'memory',
    gpu: string,
    ms: number,
  ): string | undefined {
    let found: string | undefined;
    for (const c of costChanges) {
      if (c.provider !== provider || Date.parse(c.effective_from) > ms) continue;
      const v =
        kind === 'gpu'
          ? (c.gpu_per_second as Record<string, string>)[gpu]
          : kind === 'cpu'
            ? c.cpu_per_core_second
            : c.memory_per_gib_second;
      if (v !== undefined) found = v;
    }
    return found;
  }

  beforeAll(async () => {
    const env = await isolatedEnv('margin', { ...LOCALSTRIPE_BILLING_ENV, INVOICE_GRACE_HOURS: '0' });
    svc = await new ServiceProcess('margin', env, 'all').start();
    ch = chReader(env);
    for (const [ws, plan] of [
      [W1, 'team'],
      [W2, 'starter'],
    ]) {
      const r = await api(svc.url, 'POST', '/v1/workspaces', ADMIN_KEY, {
        id: ws,
        name: ws,
        email: `${ws}@example.test`,
        plan,
      });
      expect(r.status).toBe(201);
      if (ws === W2) workspaceKey = r.body.api_key;
    }
    for (const c of costChanges) {
      const r = await api(svc.url, 'POST', '/v1/catalog/cost-changes', ADMIN_KEY, c);
      expect([r.status, r.body]).toEqual([201, c]);
    }
    // Usage: providers oci, aws (costed from the cut), lambda (never costed) and none; GPU types
    // oci has no B200 cost for; two regions; events across the cut and across hours.
    const r = rng(4242);
    const providers = ['oci', 'oci', 'aws', 'lambda', ''];
    const gpus = ['H100', 'A10G', 'L4', 'B200'];
    const cloud: unknown[] = [];
    for (let i = 0; i < 600; i++) {
      const ws = i % 3 === 0 ? W2 : W1;
      const provider = providers[i % providers.length];
      const gpu = gpus[Math.floor(r() * gpus.length)];
      const region = r() < 0.5 ? 'us-east' : 'eu-west';
      const length = 1 + Math.floor(r() * 3_600_000); // at most an hour, as the contract allows
      // A few straddle the cost change; the rest anywhere in the month.
      const start =
        i % 10 === 0
          ? costCut - Math.floor(r() * length)
          : month.start + Math.floor(r() * (month.end - month.start - length));
      const ev: Ev = {
        ws,
        provider,
        gpu,
        region,
        count: 1 + Math.floor(r() * 8),
        cpu: r() < 0.7 ? Math.floor(r() * 16_000) : 0,
        mem: r() < 0.7 ? Math.floor(r() * 65_536) : 0,
        start,
        end: start + length,
      };
      events.push(ev);
      cloud.push({
        specversion: '1.0',
        id: `mg_${tag}_${i}`,
        source: `agent://host-${i % 4}`,
        type: 'gpu.usage.v1',
        subject: ws,
        time: new Date(ev.end).toISOString(),
        data: {
          container_id: `ct_${tag}_${i}`,
          app_id: 'app',
          function_id: 'fn',
          gpu_type: gpu,
          gpu_count: ev.count,
          started_at: new Date(ev.start).toISOString(),
          ended_at: new Date(ev.end).toISOString(),
          region,
          ...(provider ? { provider } : {}),
          ...(ev.cpu ? { cpu_millicores: ev.cpu } : {}),
          ...(ev.mem ? { memory_mib: ev.mem } : {}),
        },
      });
    }
    await postEvents(svc.url, cloud);
    const deadline = Date.now() + 60_000;
    while ((await ch.totals()).hourlyEvents !== BigInt(cloud.length)) {
      if (Date.now() > deadline) throw new Error('events not stored');
      await new Promise((res) => setTimeout(res, 250));
    }
    expect(await runInvoiceMonth(svc.url, month.period)).toMatchObject({ status: 'completed', errors: [] });
  });

  afterAll(async () => {
    await svc?.kill();
    await ch?.close();
  });

  /**
   * The oracle: per group (and covered or not), from the events and the catalogs; each
   * workspace's credits are its month's invoice's by the oracle's own invoice rule (the plan's
   * monthly credits, never more than the usage) — and the service's invoices must agree.
   */
  async function oracle(groupBy: Array<'provider' | 'gpu_type' | 'region'>) {
    const credits = new Map<string, bigint>();
    for (const [ws, plan] of [
      [W1, PLANS.team],
      [W2, PLANS.starter],
    ] as const) {
      const own = events
        .filter((e) => e.ws === ws)
        .map((e) => ({
          subject: ws,
          gpu_type: e.gpu,
          gpu_count: e.count,
          started_ms: e.start,
          ended_ms: e.end,
          cpu_millicores: e.cpu,
          memory_mib: e.mem,
        }));
      const want = oracleListInvoice(own, ws, month.start, month.end, plan);
      credits.set(ws, want.creditsCents);
      const r = await api(
        svc.url,
        'GET',
        `/v1/invoices?workspace_id=${ws}&period=${month.period}`,
        ADMIN_KEY,
      );
      const lines = (r.body.invoices as { lines: { kind: string; amount: string }[] }[]).flatMap(
        (i) => i.lines,
      );
      const billed = -lines.filter((l) => l.kind === 'credits').reduce((a, l) => a + toCents(l.amount), 0n);
      expect([ws, billed]).toEqual([ws, want.creditsCents]);
    }
    expect(credits.get(W1)).toBeGreaterThan(0n);
    const cuts = [month.start, costCut, month.end];
    const cells = new Map<string, Map<string, Cell>>(); // workspace → group|covered → sums
    for (const e of events) {
      for (let p = 0; p + 1 < cuts.length; p++) {
        const a = Math.max(e.start, cuts[p]);
        const b = Math.min(e.end, cuts[p + 1]);
        if (b <= a) continue;
        const ms = BigInt(b - a);
        for (const kind of ['gpu', 'cpu', 'memory'] as const) {
          const q = ms * BigInt(kind === 'gpu' ? e.count : kind === 'cpu' ? e.cpu : e.mem);
          if (q === 0n) continue;
          const list = kind === 'gpu' ? LIST.gpu[e.gpu] : kind === 'cpu' ? LIST.cpu : LIST.memory;
          const cost = e.provider === '' ? undefined : costAt(e.provider, kind, e.gpu, cuts[p]);
          const group = groupBy.map((k) =>
            k === 'provider' ? e.provider : k === 'gpu_type' ? e.gpu : e.region,
          );
          const key = `${JSON.stringify(group)}|${cost === undefined ? 'u' : 'c'}`;
          const byWs = cells.get(e.ws) ?? new Map<string, Cell>();
          cells.set(e.ws, byWs);
          const c = byWs.get(key) ?? cell();
          byWs.set(key, c);
          if (kind === 'gpu') c.gpuMs += q;
          if (kind === 'cpu') c.cpuMs += q;
          if (kind === 'memory') c.memMs += q;
          c.revenue += (q * scaledPrice(list)) / DIVISOR[kind];
          if (cost !== undefined) c.cost += (q * scaledPrice(cost)) / DIVISOR[kind];
          else
            c.reasons.add(
              e.provider === ''
                ? 'no_provider'
                : e.provider === 'lambda'
                  ? 'unknown_provider'
                  : 'no_cost_in_force',
            );
        }
      }
    }
    // Credits in whole cents, in proportion to list revenue, largest remainders first.
    const groups = new Map<string, { c: Cell; u: Cell }>();
    for (const [ws, byWs] of cells) {
      const keys = [...byWs.keys()].sort();
      const total = keys.reduce((s, k) => s + byWs.get(k)!.revenue, 0n);
      const cents = credits.get(ws) ?? 0n;
      const parts = keys.map((k) => ({
        k,
        q: (cents * byWs.get(k)!.revenue) / total,
        r: (cents * byWs.get(k)!.revenue) % total,
      }));
      let left = cents - parts.reduce((s, p) => s + p.q, 0n);
      for (const p of [...parts].sort((x, y) => (y.r > x.r ? 1 : y.r < x.r ? -1 : x.k < y.k ? -1 : 1)))
        if (left > 0n) {
          p.q += 1n;
          left -= 1n;
        }
      for (const p of parts) byWs.get(p.k)!.credits = centsScaled(p.q);
      for (const [key, c] of byWs) {
        const [group, part] = [key.slice(0, key.lastIndexOf('|')), key.slice(key.lastIndexOf('|') + 1)];
        const g = groups.get(group) ?? { c: cell(), u: cell() };
        groups.set(group, g);
        const into = part === 'c' ? g.c : g.u;
        into.gpuMs += c.gpuMs;
        into.cpuMs += c.cpuMs;
        into.memMs += c.memMs;
        into.revenue += c.revenue;
        into.cost += c.cost;
        into.credits += c.credits;
        for (const x of c.reasons) into.reasons.add(x);
      }
    }
    return groups;
  }

  interface Row {
    provider?: string;
    gpu_type?: string;
    region?: string;
    gpu_seconds: string;
    revenue_list: string;
    credits: string;
    revenue: string;
    cost: string;
    margin: string;
    margin_percent: string | null;
    uncovered: { gpu_seconds: string; revenue_list: string; credits: string; reasons: string[] } | null;
  }

  it.each([[['provider', 'gpu_type', 'region']], [['provider']], [['gpu_type', 'region']]] as Array<
    [Array<'provider' | 'gpu_type' | 'region'>]
  >)('every row equals the oracle (group_by %j)', async (groupBy) => {
    const r = await api(
      svc.url,
      'GET',
      `/v1/reports/margin?period=${month.period}&group_by=${groupBy.join(',')}`,
      ADMIN_KEY,
    );
    expect(r.status).toBe(200);
    const want = await oracle(groupBy);
    const rows = r.body.rows as Row[];
    expect(rows.length).toBe(want.size);
    let reasons = new Set<string>();
    for (const row of rows) {
      const key = JSON.stringify(groupBy.map((k) => row[k]));
      const w = want.get(key)!;
      expect([key, w !== undefined]).toEqual([key, true]);
      const margin = w.c.revenue - w.c.credits - w.c.cost;
      expect([
        key,
        scaled(row.revenue_list),
        scaled(row.credits),
        scaled(row.revenue),
        scaled(row.cost),
        scaled(row.margin),
      ]).toEqual([key, w.c.revenue, w.c.credits, w.c.revenue - w.c.credits, w.c.cost, margin]);
      expect([key, scaled(row.gpu_seconds) / 10n ** 22n]).toEqual([key, w.c.gpuMs]);
      const rev = w.c.revenue - w.c.credits;
      if (rev === 0n) expect(row.margin_percent).toBeNull();
      else {
        const neg = margin < 0n !== rev < 0n;
        const abs = (x: bigint) => (x < 0n ? -x : x);
        const h = (abs(margin) * 20_000n + abs(rev)) / (2n * abs(rev));
        expect([key, row.margin_percent]).toEqual([
          key,
          `${neg && h > 0n ? '-' : ''}${h / 100n}.${(h % 100n).toString().padStart(2, '0')}`,
        ]);
      }
      const hasUncovered = w.u.gpuMs + w.u.cpuMs + w.u.memMs > 0n;
      expect([key, row.uncovered !== null]).toEqual([key, hasUncovered]);
      if (row.uncovered) {
        expect([
          key,
          scaled(row.uncovered.revenue_list),
          scaled(row.uncovered.credits),
          row.uncovered.reasons,
        ]).toEqual([key, w.u.revenue, w.u.credits, [...w.u.reasons].sort()]);
        reasons = new Set([...reasons, ...row.uncovered.reasons]);
      }
    }
    // All three kinds of uncovered usage are there, and the month's credits are all spread.
    expect([...reasons].sort()).toEqual(['no_cost_in_force', 'no_provider', 'unknown_provider']);
    const t = r.body.totals as Row;
    const allCredits = [...want.values()].reduce((s, g) => s + g.c.credits + g.u.credits, 0n);
    expect(scaled(t.credits) + scaled(t.uncovered!.credits)).toBe(allCredits);
    expect(scaled(t.margin)).toBe(rows.reduce((s, x) => s + scaled(x.margin), 0n));
  });

  it('the CSV and JSONL exports carry the report’s figures', async () => {
    const report = await api(
      svc.url,
      'GET',
      `/v1/reports/margin?period=${month.period}&group_by=provider,region`,
      ADMIN_KEY,
    );
    for (const format of ['jsonl', 'csv']) {
      const res = await fetch(
        `${svc.url}/v1/exports/margin?period=${month.period}&group_by=provider,region&format=${format}`,
        {
          headers: { authorization: `Bearer ${ADMIN_KEY}` },
        },
      );
      expect(res.status).toBe(200);
      const text = (await res.text()).trim().split('\n');
      const records =
        format === 'jsonl'
          ? text.map((l) => JSON.parse(l) as Record<string, string>)
          : text.slice(1).map((l) => {
              const cols = text[0].split(',');
              const vals = l.split(',');
              return Object.fromEntries(cols.map((c, i) => [c, vals[i]]));
            });
      const groups = records.filter((x) => x.row === 'group');
      expect(groups.length).toBe(report.body.rows.length);
      for (const [i, row] of (report.body.rows as Row[]).entries()) {
        // CSV guards text a spreadsheet would run (a provider of ''): compare the figures.
        expect([
          groups[i].revenue_list,
          groups[i].credits,
          groups[i].cost,
          groups[i].margin,
          groups[i].margin_percent,
        ]).toEqual([row.revenue_list, row.credits, row.cost, row.margin, row.margin_percent ?? '']);
        expect(groups[i].uncovered_revenue_list).toBe(row.uncovered?.revenue_list ?? '0.00');
      }
      const total = records.find((x) => x.row === 'total')!;
      expect([total.margin, total.cost]).toEqual([report.body.totals.margin, report.body.totals.cost]);
    }
  });

  it('only the operator reads it; bad input is a 400 naming the field', async () => {
    expect(
      (await api(svc.url, 'GET', `/v1/reports/margin?period=${month.period}`, workspaceKey)).status,
    ).toBe(403);
    for (const [q, field] of [
      [`period=${month.period}&group_by=provider,app_id`, 'group_by'],
      [`period=${month.period}&group_by=provider,provider`, 'group_by'],
      ['period=2026-13', 'period'],
      ['', 'period'],
    ]) {
      const r = await api(svc.url, 'GET', `/v1/reports/margin?${q}`, ADMIN_KEY);
      expect([q, r.status, r.body.error?.details?.[0]?.field]).toEqual([q, 400, field]);
    }
    for (const [body, field] of [
      [
        { effective_from: '2026-01-01T00:00:00Z', provider: 'oci', gpu_per_second: { Z9: '0.1' } },
        'gpu_per_second.Z9',
      ],
      [
        { effective_from: '2026-01-01T00:00:00Z', provider: 'oci', gpu_per_second: { H100: '-1' } },
        'gpu_per_second.H100',
      ],
      [{ effective_from: '2026-01-01T00:00:00Z', provider: 'oci' }, 'gpu_per_second'],
      [{ effective_from: '2026-01-01T00:00:00Z', provider: '', cpu_per_core_second: '0' }, 'provider'],
      [{ effective_from: 'soon', provider: 'oci', cpu_per_core_second: '0' }, 'effective_from'],
    ] as const) {
      const r = await api(svc.url, 'POST', '/v1/catalog/cost-changes', ADMIN_KEY, body);
      expect([JSON.stringify(body), r.status, r.body.error?.details?.[0]?.field]).toEqual([
        JSON.stringify(body),
        400,
        field,
      ]);
    }
  });
});
