import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Stripe from 'stripe';
import { GPU_TYPES, GeneratedEvent, rng } from './workload';
import { OracleEvent } from './invoice-oracle';
import { api, postEvents } from './http';
import { chReader } from './clickhouse';
import { ADMIN_KEY, ROOT } from './test-env';

export const LOCALSTRIPE_URL = 'http://127.0.0.1:8420';

/** A service that invoices any month (late events accepted), pushes to localstripe, schedules nothing. */
export const LOCALSTRIPE_BILLING_ENV = {
  EVENT_MAX_AGE_DAYS: '400',
  INVOICE_SCHEDULER_INTERVAL_SECONDS: '0',
  STRIPE_API_URL: LOCALSTRIPE_URL,
};
export const STRIPE_MOCK_URL = 'http://127.0.0.1:12111';

/** A calendar month `back` months before the current one: [start, end) in ms and "YYYY-MM". */
export function monthBack(back: number, now = Date.now()) {
  const d = new Date(now);
  const start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - back, 1);
  const end = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - back + 1, 1);
  const s = new Date(start);
  return { start, end, period: `${s.getUTCFullYear()}-${String(s.getUTCMonth() + 1).padStart(2, '0')}` };
}

/**
 * Usage events spread over [fromMs, toMs): every GPU type per workspace, intervals of up to
 * an hour with millisecond ends (many cross hour boundaries), CPU and memory often, not always.
 */
export function usageEvents(opts: {
  workspaces: string[];
  perWorkspace: number;
  fromMs: number;
  toMs: number;
  seed: number;
  idPrefix: string;
  /** distinct app ids (app_0 …), 3 unless said */
  apps?: number;
}): { events: GeneratedEvent[]; oracle: OracleEvent[] } {
  const r = rng(opts.seed);
  const events: GeneratedEvent[] = [];
  const oracle: OracleEvent[] = [];
  opts.workspaces.forEach((ws, w) => {
    for (let i = 0; i < opts.perWorkspace; i++) {
      const duration = 1 + Math.floor(r() * Math.min(3_600_000, (opts.toMs - opts.fromMs) / 2));
      const started = opts.fromMs + Math.floor(r() * (opts.toMs - opts.fromMs - duration));
      const ended = started + duration;
      const gpuType = GPU_TYPES[(w + i) % GPU_TYPES.length];
      const gpuCount = 1 + Math.floor(r() * 8);
      const cpu = r() < 0.8 ? Math.floor(r() * 16_000) : 0;
      const mem = r() < 0.8 ? Math.floor(r() * 131_072) : 0;
      const container = `ct_${opts.idPrefix}_${w}_${i}`;
      events.push({
        specversion: '1.0',
        id: `${container}:${started}`,
        source: `agent://host-${w % 5}`,
        type: 'gpu.usage.v1',
        subject: ws,
        time: new Date(ended).toISOString(),
        data: {
          container_id: container,
          app_id: `app_${i % (opts.apps ?? 3)}`,
          function_id: `fn_${i % 2}`,
          gpu_type: gpuType,
          gpu_count: gpuCount,
          started_at: new Date(started).toISOString(),
          ended_at: new Date(ended).toISOString(),
          ...(cpu ? { cpu_millicores: cpu } : {}),
          ...(mem ? { memory_mib: mem } : {}),
          region: 'us-east',
        },
      });
      oracle.push({
        subject: ws,
        gpu_type: gpuType,
        gpu_count: gpuCount,
        started_ms: started,
        ended_ms: ended,
        cpu_millicores: cpu,
        memory_mib: mem,
      });
    }
  });
  return { events, oracle };
}

/** Runs `gpumeter <args>` as a real process; resolves with its exit code or signal and stdout. */
export function runCli(
  env: Record<string, string>,
  args: string[],
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'dist', 'main.js'), ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** The Stripe SDK pointed at an emulator, for assertions on what it holds. */
export function stripeAt(url: string): Stripe {
  const u = new URL(url);
  return new Stripe('sk_test_gpumeterlocal', { host: u.hostname, port: Number(u.port), protocol: 'http' });
}

/**
 * What localstripe holds for these workspaces: how many times each gpumeter line id appears
 * (on invoices or pending), and the invoices by gpumeter invoice id.
 */
export async function stripeHoldings(stripe: Stripe, workspaces: ReadonlySet<string>) {
  const lineCounts = new Map<string, number>();
  const invoices = new Map<string, { id: string; total: number; count: number }>();
  const customers = (await stripe.customers.list({ limit: 100 }).autoPagingToArray({ limit: 10_000 })).filter(
    (c) => workspaces.has(c.metadata?.gpumeter_workspace_id ?? ''),
  );
  const customersPerWorkspace = new Map<string, number>();
  for (const c of customers) {
    const ws = c.metadata.gpumeter_workspace_id;
    customersPerWorkspace.set(ws, (customersPerWorkspace.get(ws) ?? 0) + 1);
    const count = (id: string | undefined) => id && lineCounts.set(id, (lineCounts.get(id) ?? 0) + 1);
    for (const inv of await stripe.invoices
      .list({ customer: c.id, limit: 100 })
      .autoPagingToArray({ limit: 1000 })) {
      const ours = inv.metadata?.gpumeter_invoice_id ?? '';
      const prev = invoices.get(ours);
      invoices.set(ours, { id: inv.id, total: inv.total, count: (prev?.count ?? 0) + 1 });
      for (const l of await stripe.invoices
        .listLineItems(inv.id, { limit: 100 })
        .autoPagingToArray({ limit: 1000 }))
        count(l.metadata?.gpumeter_line_id);
    }
    for (const ii of await stripe.invoiceItems
      .list({ customer: c.id, limit: 100 })
      .autoPagingToArray({ limit: 1000 }))
      if (!ii.invoice) count(ii.metadata?.gpumeter_line_id);
  }
  return { lineCounts, invoices, customersPerWorkspace };
}

/** Creates workspaces through the API, each on the plan `planOf` gives it. */
export async function createPlannedWorkspaces(
  baseUrl: string,
  ids: readonly string[],
  planOf: (index: number) => 'starter' | 'team',
): Promise<Record<string, string>> {
  const keys: Record<string, string> = {};
  for (const [i, id] of ids.entries()) {
    const r = await api(baseUrl, 'POST', '/v1/workspaces', ADMIN_KEY, {
      id,
      name: `Workspace ${id}`,
      email: `${id}@example.test`,
      plan: planOf(i),
    });
    if (r.status !== 201) throw new Error(`creating workspace ${id}: ${r.status} ${JSON.stringify(r.body)}`);
    keys[id] = r.body.api_key;
  }
  return keys;
}

/** Starts an invoice run through the API and waits for its outcome (the run's final state). */
export async function runInvoiceMonth(
  baseUrl: string,
  period: string,
  mode: 'month_end' | 'threshold' = 'month_end',
) {
  const started = await api(baseUrl, 'POST', '/v1/invoice-runs', ADMIN_KEY, {
    period,
    ...(mode === 'threshold' ? { mode } : {}),
  });
  if (started.status !== 202)
    throw new Error(`invoice run refused: ${started.status} ${JSON.stringify(started.body)}`);
  const deadline = Date.now() + 180_000;
  for (;;) {
    const r = await api(baseUrl, 'GET', `/v1/invoice-runs/${started.body.id}`, ADMIN_KEY);
    if (r.status !== 200) throw new Error(`invoice run ${started.body.id}: ${r.status}`);
    if (r.body.status !== 'running') return r.body;
    if (Date.now() > deadline) throw new Error('invoice run did not finish');
    await new Promise((res) => setTimeout(res, 300));
  }
}

/**
 * Usage sent month by month through the API, as the multi-month billing tests send it: each
 * call posts generated events for a month and waits until every event sent so far is rolled
 * up; `usage` keeps every month's events for an oracle.
 */
export class MonthUsageSender {
  readonly usage = new Map<string, OracleEvent[]>(); // period → every event sent for it so far
  private sent = 0;

  constructor(
    private readonly url: () => string,
    private readonly ch: () => ReturnType<typeof chReader>,
    private readonly workspaces: string[],
    private readonly tag: string,
  ) {}

  async send(month: { start: number; end: number; period: string }, perWorkspace: number, seed: number) {
    const g = usageEvents({
      workspaces: this.workspaces,
      perWorkspace,
      fromMs: month.start,
      toMs: month.end,
      seed,
      idPrefix: `${this.tag}s${seed}`,
    });
    this.usage.set(month.period, [...(this.usage.get(month.period) ?? []), ...g.oracle]);
    await postEvents(this.url(), g.events);
    this.sent += g.events.length;
    const deadline = Date.now() + 60_000;
    while ((await this.ch().totals()).hourlyEvents !== BigInt(this.sent)) {
      if (Date.now() > deadline) throw new Error(`not all ${this.sent} events stored`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/**
 * A `workspace.created` billing event as the API writes it (for tests that write straight to
 * billing.events.v1, as an older build or a producer with topic access could), with its key.
 */
export function workspaceCreatedEvent(id: string, plan?: string) {
  const apiKey = `gpm_ws_${randomBytes(32).toString('base64url')}`;
  const event = {
    specversion: '1.0',
    id: `evt-${id}`,
    source: 'gpumeter',
    type: 'workspace.created',
    subject: id,
    time: new Date().toISOString(),
    data: {
      id,
      name: `Workspace ${id}`,
      email: `${id}@example.test`,
      api_key_hash: createHash('sha256').update(apiKey).digest('hex'),
      api_key_prefix: apiKey.slice(0, 12),
      ...(plan === undefined ? {} : { plan }),
    },
  };
  return { apiKey, event };
}
