import fc from 'fast-check';
import { sampleUsageEvent } from '../src/ingestion/usage-event/usage-event.fixtures';
import { workspaceCreatedEvent } from './support/billing';
import { api } from './support/http';
import { testKafka } from './support/kafka';
import { monthStart, periodOf } from './support/wait';
import { ServiceProcess } from './support/service-process';
import { ADMIN_KEY, AGENT_TOKEN, isolatedEnv } from './support/test-env';

/**
 * Issue 24: a stateful fuzz. Random sequences of legitimate operator and workspace calls —
 * catalog, plan and cost changes, workspaces, keys, budgets, credit grants, thresholds,
 * webhook endpoints, usage, invoice runs — against the real service, Kafka, ClickHouse and
 * localstripe; after every step every reader (reports, reconciliation, exports, spend,
 * upcoming, invoices and every call the dashboard makes) must answer without a 5xx and every
 * export must end whole. Found before it existed: a workspace accepted on a plan not yet in
 * force broke month reports for everyone. That sequence runs first, as an example.
 *
 * The service's state is not reset between runs (the catalog is global, as in production):
 * each run's workspaces are its own, and the model of the catalog is kept across runs. A
 * failure therefore reports the whole run's commands (no shrinking: a broken state would make
 * every shorter sequence fail too). FUZZ_SEED=<n> replays a run.
 */
jest.setTimeout(1_200_000);

const HOUR = 3_600_000;

/** What the service is expected to hold: the catalog for all runs, workspaces per run. */
interface CatalogModel {
  /** Each plan's first instant in force (seed plans: always). */
  plans: Map<string, number>;
}
interface WorkspaceModel {
  id: string;
  key: string;
  extraKeys: string[];
  grants: string[];
}
interface RunModel {
  catalog: CatalogModel;
  run: number;
  workspaces: WorkspaceModel[];
}
interface Real {
  url: string;
  log: string[];
}
type Cmd = fc.AsyncCommand<RunModel, Real>;

/** How many steps of each kind ran, all runs together (each must have run). */
const stepsRun = new Map<string, number>();

/** A step: one legitimate call (or a few), then every reader must still answer. */
abstract class Step implements Cmd {
  check(_m: Readonly<RunModel>): boolean {
    return true;
  }
  abstract act(m: RunModel, r: Real): Promise<void>;
  async run(m: RunModel, r: Real): Promise<void> {
    await this.act(m, r);
    await readersAnswer(m, r);
    stepsRun.set(this.constructor.name, (stepsRun.get(this.constructor.name) ?? 0) + 1);
  }
  abstract toString(): string;
}

/** Instants commands choose from, as the operator would name them. */
type When = 'now' | 'next_month' | 'in_6_months';
const instant = (when: When): number => {
  const now = Date.now();
  if (when === 'now') return now + 60_000;
  if (when === 'next_month') return monthStart(now, 1);
  return monthStart(now, 6);
};
const inForce = (m: RunModel, plan: string, atMs: number) => (m.catalog.plans.get(plan) ?? Infinity) <= atMs;

async function call(r: Real, method: string, path: string, token: string | null, body?: unknown) {
  const res = await api(r.url, method, path, token, body);
  r.log.push(`${method} ${path} ${body === undefined ? '' : JSON.stringify(body)} → ${res.status}`);
  return res;
}

/** A legitimate call the model says must succeed. */
async function expect2xx(r: Real, method: string, path: string, token: string | null, body?: unknown) {
  const res = await call(r, method, path, token, body);
  if (res.status < 200 || res.status > 299)
    throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body).slice(0, 400)}`);
  return res;
}

class PlanChange extends Step {
  constructor(
    readonly plan: string,
    readonly when: When,
    readonly fee: string,
    readonly credits: string,
    readonly threshold: string | null | undefined,
  ) {
    super();
  }
  async act(m: RunModel, r: Real) {
    const at = instant(this.when);
    await expect2xx(r, 'POST', '/v1/catalog/plan-changes', ADMIN_KEY, {
      effective_from: new Date(at).toISOString(),
      plan: this.plan,
      base_fee: this.fee,
      monthly_credits: this.credits,
      ...(this.threshold === undefined ? {} : { billing_threshold: this.threshold }),
    });
    m.catalog.plans.set(this.plan, Math.min(at, m.catalog.plans.get(this.plan) ?? Infinity));
  }
  toString() {
    return `PlanChange(${this.plan}, ${this.when}, fee ${this.fee}, credits ${this.credits})`;
  }
}

class PriceChange extends Step {
  constructor(
    readonly gpu: string,
    readonly price: string,
    readonly when: When,
  ) {
    super();
  }
  async act(_m: RunModel, r: Real) {
    await expect2xx(r, 'POST', '/v1/catalog/price-changes', ADMIN_KEY, {
      effective_from: new Date(instant(this.when)).toISOString(),
      gpu_per_second: { [this.gpu]: this.price },
    });
  }
  toString() {
    return `PriceChange(${this.gpu} ${this.price}, ${this.when})`;
  }
}

class CostChange extends Step {
  constructor(
    readonly provider: string,
    readonly price: string,
    readonly lastMonth: boolean,
  ) {
    super();
  }
  async act(_m: RunModel, r: Real) {
    const at = this.lastMonth ? monthStart(Date.now(), -1) + 3 * HOUR : Date.now();
    await expect2xx(r, 'POST', '/v1/catalog/cost-changes', ADMIN_KEY, {
      effective_from: new Date(at).toISOString(),
      provider: this.provider,
      gpu_per_second: { H100: this.price, T4: this.price },
    });
  }
  toString() {
    return `CostChange(${this.provider} ${this.price}${this.lastMonth ? ', last month' : ''})`;
  }
}

class CreateWorkspace extends Step {
  constructor(
    public planPick: number,
    readonly planName?: string,
  ) {
    super();
  }
  override check(m: Readonly<RunModel>) {
    return m.workspaces.length < 6;
  }
  plan = '';
  async act(m: RunModel, r: Real) {
    const plans = [...m.catalog.plans.keys()].sort();
    this.plan = this.planName ?? plans[this.planPick % plans.length];
    const id = `ws_f${m.run}_${m.workspaces.length}`;
    const body = { id, name: `Fuzz ${id}`, email: `${id}@example.test`, plan: this.plan };
    if (inForce(m, this.plan, Date.now())) {
      const res = await expect2xx(r, 'POST', '/v1/workspaces', ADMIN_KEY, body);
      m.workspaces.push({ id, key: res.body.api_key as string, extraKeys: [], grants: [] });
    } else {
      // A plan not in force yet is refused, naming the field.
      const res = await call(r, 'POST', '/v1/workspaces', ADMIN_KEY, body);
      expect({ status: res.status, field: res.body?.error?.details?.[0]?.field }).toEqual({
        status: 400,
        field: 'plan',
      });
    }
  }
  toString() {
    return `CreateWorkspace(plan #${this.planPick}${this.plan ? ` = ${this.plan}` : ''})`;
  }
}

/** A command on one of the run's workspaces (picked modulo how many there are). */
abstract class OnWorkspace extends Step {
  constructor(readonly pick: number) {
    super();
  }
  override check(m: Readonly<RunModel>) {
    return m.workspaces.length > 0;
  }
  protected ws(m: RunModel) {
    return m.workspaces[this.pick % m.workspaces.length];
  }
}

class ChangePlan extends OnWorkspace {
  constructor(
    pick: number,
    readonly planPick: number,
    readonly when: 'next_month' | 'in_6_months',
  ) {
    super(pick);
  }
  async act(m: RunModel, r: Real) {
    const plans = [...m.catalog.plans.keys()].sort();
    const plan = plans[this.planPick % plans.length];
    const at = instant(this.when);
    const body = { plan, effective_from: new Date(at).toISOString() };
    const path = `/v1/workspaces/${this.ws(m).id}/plan`;
    if (inForce(m, plan, at)) await expect2xx(r, 'PUT', path, ADMIN_KEY, body);
    else {
      const res = await call(r, 'PUT', path, ADMIN_KEY, body);
      expect({ status: res.status, field: res.body?.error?.details?.[0]?.field }).toEqual({
        status: 400,
        field: 'plan',
      });
    }
  }
  toString() {
    return `ChangePlan(ws #${this.pick}, plan #${this.planPick}, ${this.when})`;
  }
}

class KeyCommand extends OnWorkspace {
  constructor(
    pick: number,
    readonly revoke: boolean,
  ) {
    super(pick);
  }
  async act(m: RunModel, r: Real) {
    const ws = this.ws(m);
    const base = `/v1/workspaces/${ws.id}/keys`;
    if (!this.revoke || ws.extraKeys.length === 0) {
      const res = await expect2xx(r, 'POST', base, ws.key, { name: 'fuzz' });
      ws.extraKeys.push(res.body.id as string);
    } else await expect2xx(r, 'DELETE', `${base}/${ws.extraKeys.pop()}`, ws.key);
  }
  toString() {
    return `${this.revoke ? 'RevokeKey' : 'CreateKey'}(ws #${this.pick})`;
  }
}

class SetBudget extends OnWorkspace {
  constructor(
    pick: number,
    readonly limit: string | null,
    readonly enforce: boolean,
  ) {
    super(pick);
  }
  async act(m: RunModel, r: Real) {
    const ws = this.ws(m);
    await expect2xx(r, 'PUT', `/v1/workspaces/${ws.id}/budget`, ws.key, {
      monthly_limit: this.limit,
      ...(this.limit === null ? {} : { enforce: this.enforce }),
    });
  }
  toString() {
    return `SetBudget(ws #${this.pick}, ${this.limit}${this.enforce ? ', enforced' : ''})`;
  }
}

class CreditGrant extends OnWorkspace {
  constructor(
    pick: number,
    readonly amount: string,
    readonly priority: number,
    readonly expiresInDays: number | null,
  ) {
    super(pick);
  }
  async act(m: RunModel, r: Real) {
    const ws = this.ws(m);
    const res = await expect2xx(r, 'POST', `/v1/workspaces/${ws.id}/credit-grants`, ADMIN_KEY, {
      amount: this.amount,
      kind: 'promotional',
      reason: 'fuzz',
      priority: this.priority,
      ...(this.expiresInDays === null
        ? {}
        : { expires_at: new Date(Date.now() + this.expiresInDays * 24 * HOUR).toISOString() }),
    });
    ws.grants.push(res.body.grant_id as string);
  }
  toString() {
    return `CreditGrant(ws #${this.pick}, ${this.amount}, priority ${this.priority})`;
  }
}

class VoidGrant extends OnWorkspace {
  override check(m: Readonly<RunModel>) {
    return m.workspaces.some((w) => w.grants.length > 0);
  }
  async act(m: RunModel, r: Real) {
    const withGrants = m.workspaces.filter((w) => w.grants.length > 0);
    const ws = withGrants[this.pick % withGrants.length];
    await expect2xx(r, 'DELETE', `/v1/workspaces/${ws.id}/credit-grants/${ws.grants.pop()}`, ADMIN_KEY, {
      reason: 'fuzz',
    });
  }
  toString() {
    return `VoidGrant(#${this.pick})`;
  }
}

class BillingThreshold extends OnWorkspace {
  constructor(
    pick: number,
    /** An amount, null (none at all), or 'plan' (back to the plan's). */
    readonly threshold: string | null,
  ) {
    super(pick);
  }
  async act(m: RunModel, r: Real) {
    const path = `/v1/workspaces/${this.ws(m).id}/billing-threshold`;
    if (this.threshold === 'plan') await expect2xx(r, 'DELETE', path, ADMIN_KEY);
    else await expect2xx(r, 'PUT', path, ADMIN_KEY, { billing_threshold: this.threshold });
  }
  toString() {
    return `BillingThreshold(ws #${this.pick}, ${this.threshold})`;
  }
}

class WebhookEndpoint extends OnWorkspace {
  async act(m: RunModel, r: Real) {
    const ws = this.ws(m);
    // Nothing listens there: deliveries fail and are retried, which is part of the state.
    await expect2xx(r, 'POST', '/v1/webhook-endpoints', ws.key, {
      url: 'http://127.0.0.1:9/hook',
      events: ['invoice.finalized', 'usage.threshold_reached', 'invoice.created', 'budget.exceeded'],
    });
  }
  toString() {
    return `WebhookEndpoint(ws #${this.pick})`;
  }
}

class PostUsage extends OnWorkspace {
  constructor(
    pick: number,
    readonly lastMonth: boolean,
    readonly events: number,
    readonly gpu: 'H100' | 'T4',
    readonly seed: number,
  ) {
    super(pick);
  }
  async act(m: RunModel, r: Real) {
    const ws = this.ws(m);
    const now = Date.now();
    // Last month's as far back as events are accepted (EVENT_MAX_AGE_DAYS, 35).
    const from = this.lastMonth ? Math.max(monthStart(now, -1), now - 34 * 24 * HOUR) : monthStart(now);
    const to = this.lastMonth ? monthStart(now) : now - 10 * 60_000;
    const events = Array.from({ length: this.events }, (_, i) => {
      // Spread over the month so far (or last month), some across an hour boundary.
      const end =
        from +
        6000 +
        Math.floor((((this.seed * 7919 + i * 104_729) % 1_000_003) / 1_000_003) * (to - from - 6000));
      return sampleUsageEvent(end, {
        id: `fz-${ws.id}-${this.seed}-${i}`,
        subject: ws.id,
        'data.gpu_type': this.gpu,
        'data.provider': i % 3 === 0 ? 'oci' : 'aws',
      });
    });
    const res = await expect2xx(r, 'POST', '/v1/events', AGENT_TOKEN, events);
    expect(res.body.rejected).toEqual([]);
  }
  toString() {
    return `PostUsage(ws #${this.pick}, ${this.events} × ${this.gpu}${this.lastMonth ? ', last month' : ''})`;
  }
}

class InvoiceRun extends Step {
  constructor(readonly mode: 'month_end' | 'threshold') {
    super();
  }
  async act(_m: RunModel, r: Real) {
    const now = Date.now();
    const period = periodOf(this.mode === 'month_end' ? monthStart(now, -1) : now);
    const started = await expect2xx(r, 'POST', '/v1/invoice-runs', ADMIN_KEY, { period, mode: this.mode });
    const deadline = Date.now() + 120_000;
    let run = started.body;
    while (run.status === 'running') {
      if (Date.now() > deadline) throw new Error(`invoice run ${run.id} still running after 120 s`);
      await new Promise((res) => setTimeout(res, 250));
      run = (await expect2xx(r, 'GET', `/v1/invoice-runs/${run.id}`, ADMIN_KEY)).body;
    }
    // A run survives every workspace's state: it completes.
    expect({ period, mode: this.mode, status: run.status, errors: run.errors }).toEqual({
      period,
      mode: this.mode,
      status: 'completed',
      errors: [],
    });
  }
  toString() {
    return `InvoiceRun(${this.mode})`;
  }
}

/** Every reader, as the operator and as each workspace (the dashboard's calls): none may 5xx. */
async function readersAnswer(m: RunModel, r: Real): Promise<void> {
  const now = Date.now();
  const thisMonth = periodOf(now);
  const lastMonth = periodOf(monthStart(now, -1));
  const hourNow = new Date(Math.floor(now / HOUR) * HOUR).toISOString();
  const monthFrom = new Date(monthStart(now)).toISOString();
  const paths: Array<[string, string]> = [];
  for (const p of [thisMonth, lastMonth]) {
    paths.push([`/v1/reports/margin?period=${p}`, ADMIN_KEY]);
    paths.push([`/v1/reports/margin?period=${p}&group_by=provider,gpu_type,region`, ADMIN_KEY]);
    paths.push([`/v1/reconciliation?period=${p}`, ADMIN_KEY]);
    paths.push([`/v1/exports/margin?period=${p}&format=csv`, ADMIN_KEY]);
    paths.push([`/v1/exports/invoices?period=${p}&format=jsonl`, ADMIN_KEY]);
    paths.push([`/v1/invoices?period=${p}`, ADMIN_KEY]);
  }
  paths.push([`/v1/exports/usage?from=${monthFrom}&to=${hourNow}&format=jsonl`, ADMIN_KEY]);
  paths.push(['/v1/catalog', ADMIN_KEY]);
  for (const ws of m.workspaces) {
    const id = ws.id;
    const mine = `workspace_id=${id}`;
    paths.push([`/v1/spend/current?${mine}`, ADMIN_KEY]);
    paths.push([`/v1/invoices/upcoming?${mine}`, ADMIN_KEY]);
    for (const [p, q] of [
      [thisMonth, `from=${monthFrom}`],
      [lastMonth, `from=${new Date(monthStart(now, -1)).toISOString()}&to=${monthFrom}`],
    ]) {
      paths.push([`/v1/usage?${q}&window=day&group_by=gpu_type`, ws.key]);
      paths.push([`/v1/usage/breakdown?${q}&by=app_id&limit=20`, ws.key]);
      paths.push([`/v1/usage/breakdown?${q}&by=function_id&limit=20`, ws.key]);
      paths.push([`/v1/workspaces/${id}/budget/alerts?period=${p}`, ws.key]);
    }
    for (const p of [
      '/v1/me',
      '/v1/invoices',
      '/v1/spend/current',
      '/v1/invoices/upcoming',
      `/v1/workspaces/${id}`,
      `/v1/workspaces/${id}/credit-grants`,
      `/v1/workspaces/${id}/billing-threshold`,
      `/v1/workspaces/${id}/keys`,
      '/v1/webhook-endpoints',
      `/v1/exports/usage?from=${monthFrom}&to=${hourNow}&format=csv`,
    ])
      paths.push([p, ws.key]);
  }
  const failures: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < paths.length) {
        const [path, token] = paths[next++];
        try {
          const res = await fetch(`${r.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
          // Read it all: an export cut off mid-stream throws here.
          const text = await res.text();
          if (res.status >= 500) failures.push(`GET ${path} → ${res.status} ${text.slice(0, 300)}`);
          else if (res.status !== 200) failures.push(`GET ${path} → ${res.status} ${text.slice(0, 300)}`);
          else if (path.startsWith('/v1/exports/margin') && !/\n[^\n]*,total,/.test(`\n${text}`))
            failures.push(`GET ${path}: no total record (cut off?)`);
        } catch (e) {
          const cause = (e as Error).cause as { code?: string; message?: string } | undefined;
          failures.push(`GET ${path}: ${(e as Error).message} ${cause?.code ?? cause?.message ?? ''}`);
        }
      }
    }),
  );
  if (failures.length > 0)
    throw new Error(`readers failed after:\n${r.log.slice(-3).join('\n')}\n\n${failures.join('\n')}`);
}

const amount = fc
  .integer({ min: 1, max: 50_000 })
  .map((c) => `${Math.floor(c / 100)}.${String(c % 100).padStart(2, '0')}`);
const when = fc.constantFrom<When>('now', 'next_month', 'in_6_months');
const commands = fc.commands(
  [
    fc
      .tuple(
        fc.constantFrom('team', 'pro', 'futurex', 'later'),
        when,
        amount,
        amount,
        fc.constantFrom(null, undefined, '5.00', '40.00'),
      )
      .map(([p, w, f, c, t]) => new PlanChange(p, w, f, c, t)),
    fc
      .tuple(fc.constantFrom('H100', 'T4'), fc.constantFrom('0.0012', '0.00017', '0.001097'), when)
      .map(([g, p, w]) => new PriceChange(g, p, w)),
    fc
      .tuple(fc.constantFrom('oci', 'aws'), fc.constantFrom('0.0004', '0.0001'), fc.boolean())
      .map(([p, c, l]) => new CostChange(p, c, l)),
    fc.nat(20).map((p) => new CreateWorkspace(p)),
    fc.nat(20).map((p) => new CreateWorkspace(p)),
    fc
      .tuple(
        fc.nat(20),
        fc.nat(20),
        fc.constantFrom<'next_month' | 'in_6_months'>('next_month', 'in_6_months'),
      )
      .map(([w, p, t]) => new ChangePlan(w, p, t)),
    fc.tuple(fc.nat(20), fc.boolean()).map(([w, rv]) => new KeyCommand(w, rv)),
    fc
      .tuple(fc.nat(20), fc.option(amount, { nil: null }), fc.boolean())
      .map(([w, l, e]) => new SetBudget(w, l, e)),
    fc
      .tuple(
        fc.nat(20),
        amount,
        fc.integer({ min: 0, max: 100 }),
        fc.option(fc.integer({ min: 1, max: 90 }), { nil: null }),
      )
      .map(([w, a, p, e]) => new CreditGrant(w, a, p, e)),
    fc.nat(20).map((p) => new VoidGrant(p)),
    fc
      .tuple(fc.nat(20), fc.constantFrom<string | null>('1.00', '25.00', null, 'plan'))
      .map(([w, t]) => new BillingThreshold(w, t)),
    fc.nat(20).map((p) => new WebhookEndpoint(p)),
    fc
      .tuple(
        fc.nat(20),
        fc.boolean(),
        fc.integer({ min: 1, max: 40 }),
        fc.constantFrom<'H100' | 'T4'>('H100', 'T4'),
        fc.nat(1_000_000),
      )
      .map(([w, l, n, g, s]) => new PostUsage(w, l, n, g, s)),
    fc.nat(20).map((p) => new PostUsage(p, false, 20, 'H100', p)),
    fc.constantFrom<'month_end' | 'threshold'>('month_end', 'threshold').map((m) => new InvoiceRun(m)),
  ],
  { maxCommands: 24, size: 'max' },
);

const STEP_KINDS = [
  'PlanChange',
  'PriceChange',
  'CostChange',
  'CreateWorkspace',
  'ChangePlan',
  'KeyCommand',
  'SetBudget',
  'CreditGrant',
  'VoidGrant',
  'BillingThreshold',
  'WebhookEndpoint',
  'PostUsage',
  'InvoiceRun',
];

describe('stateful fuzz of legitimate calls (issue 24)', () => {
  let svc: ServiceProcess;
  let env: Record<string, string>;
  const catalog: CatalogModel = {
    plans: new Map([
      ['starter', -Infinity],
      ['team', -Infinity],
    ]),
  };
  let runs = 0;

  beforeAll(async () => {
    env = await isolatedEnv('fuzz', {
      INVOICE_SCHEDULER_INTERVAL_SECONDS: '0',
      THRESHOLD_BILLING_INTERVAL_SECONDS: '0',
      STRIPE_API_URL: 'http://127.0.0.1:8420',
      RATE_LIMIT_PER_CREDENTIAL_PER_SECOND: '100000',
    });
    svc = await new ServiceProcess('stateful-fuzz', env, 'all').start();
  });
  afterAll(async () => {
    await svc?.kill();
  });

  it('a workspace an older build put on a plan with no terms yet is billed at list prices alone, named by reconciliation, and breaks no reader or run', async () => {
    // Builds before issue 24 accepted it: the workspace.created event is written as they wrote it.
    await expect2xx({ url: svc.url, log: [] }, 'POST', '/v1/catalog/plan-changes', ADMIN_KEY, {
      effective_from: new Date(monthStart(Date.now(), 6)).toISOString(),
      plan: 'legacyfuture',
      base_fee: '99.00',
      monthly_credits: '50.00',
    });
    catalog.plans.set('legacyfuture', monthStart(Date.now(), 6));
    const id = 'ws_legacy_plan';
    const { apiKey: key, event } = workspaceCreatedEvent(id, 'legacyfuture');
    const kafka = testKafka(env);
    await kafka.produce(kafka.topic('billing.events.v1'), [{ key: id, value: JSON.stringify(event) }]);
    await kafka.close();
    const real: Real = { url: svc.url, log: [] };
    for (let tries = 0; (await api(svc.url, 'GET', '/v1/me', key)).body?.workspace_id !== id; tries++) {
      if (tries > 100) throw new Error('the planted workspace never became readable');
      await new Promise((res) => setTimeout(res, 100));
    }
    // B200 at its list price, 0.001736 USD/s, which nothing here changes: 8 GPUs × 5.123 s an event.
    const now = Date.now();
    const lastMonthEvents = Array.from({ length: 50 }, (_, i) =>
      sampleUsageEvent(Math.max(monthStart(now, -1), now - 34 * 24 * HOUR) + 60_000 * (i + 1), {
        id: `legacy-last-${i}`,
        subject: id,
        'data.gpu_type': 'B200',
      }),
    );
    const thisMonthEvents = Array.from({ length: 10 }, (_, i) =>
      sampleUsageEvent(monthStart(now) + 60_000 * (i + 1), {
        id: `legacy-this-${i}`,
        subject: id,
        'data.gpu_type': 'B200',
      }),
    );
    const posted = await expect2xx(real, 'POST', '/v1/events', AGENT_TOKEN, [
      ...lastMonthEvents,
      ...thisMonthEvents,
    ]);
    expect(posted.body.rejected).toEqual([]);
    const model: RunModel = { catalog, run: -1, workspaces: [{ id, key, extraKeys: [], grants: [] }] };
    await readersAnswer(model, real);

    // This month, upcoming: 10 × 8 × 5.123 = 409.84 GPU-s × 0.001736 = 0.71148224 → 0.71; no fee, no credits.
    const up = await expect2xx(real, 'GET', '/v1/invoices/upcoming', key);
    expect(up.body.plan).toEqual({ plan: 'legacyfuture', base_fee: '0', monthly_credits: '0' });
    expect(up.body.lines.find((l: { key: string }) => l.key === 'gpu:B200').amount).toBe('0.71');
    expect(
      up.body.lines.filter((l: { kind: string }) => l.kind === 'plan_fee' || l.kind === 'credits'),
    ).toEqual([]);
    const thisMonth = await expect2xx(real, 'GET', `/v1/reconciliation?period=${periodOf(now)}`, ADMIN_KEY);
    expect(thisMonth.body.differences).toContainEqual(
      expect.objectContaining({ check: 'catalog.plan_without_terms', workspace_id: id }),
    );

    // Last month, invoiced and finalized: 50 × 8 × 5.123 = 2,049.2 GPU-s × 0.001736 = 3.5574112 → 3.56.
    await new InvoiceRun('month_end').act(model, real);
    const lastPeriod = periodOf(monthStart(now, -1));
    const inv = await expect2xx(
      real,
      'GET',
      `/v1/invoices?period=${lastPeriod}&workspace_id=${id}`,
      ADMIN_KEY,
    );
    expect(inv.body.invoices).toHaveLength(1);
    const doc = inv.body.invoices[0];
    expect(doc.status).not.toBe('draft');
    expect(doc.lines.map((l: { key: string; amount: string }) => [l.key, l.amount])).toEqual([
      ['gpu:B200', '3.56'],
      ['cpu', (0.0000131 * 4 * 5.123 * 50).toFixed(2)],
      ['memory', (0.00000222 * 32 * 5.123 * 50).toFixed(2)],
    ]);
    const last = await expect2xx(real, 'GET', `/v1/reconciliation?period=${lastPeriod}`, ADMIN_KEY);
    expect(last.body.differences).toContainEqual(
      expect.objectContaining({ check: 'catalog.plan_without_terms', workspace_id: id }),
    );
    await readersAnswer(model, real);
  });

  it('after every step of random sequences of operator and workspace calls, every reader answers without a 5xx', async () => {
    // The sequence the first black-box fuzz found (a plan whose terms start in the future, then a
    // workspace on it), run before the random ones.
    const found: Cmd[] = [
      new PlanChange('futurex', 'in_6_months', '10.00', '5.00', undefined),
      new CreateWorkspace(0, 'futurex'),
    ];
    // Then every kind of step once, in an order that makes each matter (a tour), before the
    // random runs: each kind is sure to run whatever the seed.
    const tour: Cmd[] = [
      new PlanChange('pro', 'now', '20.00', '10.00', '25.00'),
      new PriceChange('T4', '0.00017', 'now'),
      new CostChange('oci', '0.0004', true),
      new CreateWorkspace(0, 'pro'),
      new ChangePlan(2, 0, 'next_month'),
      new KeyCommand(0, false),
      new KeyCommand(0, true),
      new SetBudget(1, '50.00', true),
      new CreditGrant(1, '5.00', 10, 30),
      new PostUsage(1, true, 30, 'H100', 1),
      new PostUsage(1, false, 30, 'T4', 2),
      new BillingThreshold(1, '1.00'),
      new InvoiceRun('threshold'),
      new VoidGrant(0),
      new WebhookEndpoint(1),
      new InvoiceRun('month_end'),
      new BillingThreshold(1, 'plan'),
    ];
    const seed = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
    await fc.assert(
      fc.asyncProperty(commands, async (cmds) => {
        const model: RunModel = { catalog, run: runs++, workspaces: [] };
        const real: Real = { url: svc.url, log: [] };
        // Two workspaces to start from (a run may make up to six), so that most steps apply.
        if (model.run > 0)
          for (const plan of ['starter', 'team']) await new CreateWorkspace(0, plan).act(model, real);
        await fc.asyncModelRun(() => ({ model, real }), cmds);
      }),
      {
        numRuns: Number(process.env.FUZZ_RUNS ?? 12),
        endOnFailure: true,
        examples: [[found], [tour]],
        ...(seed === undefined ? {} : { seed }),
      },
    );
    // The example counts as one of the runs.
    expect(runs).toBe(Number(process.env.FUZZ_RUNS ?? 12));
    process.stdout.write(
      `stateful fuzz: ${runs} runs, steps ${JSON.stringify(Object.fromEntries(stepsRun))}\n`,
    );
    for (const kind of STEP_KINDS)
      expect({ kind, ran: (stepsRun.get(kind) ?? 0) > 0 }).toEqual({ kind, ran: true });
  });
});
