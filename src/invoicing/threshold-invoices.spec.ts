import { Money } from '../catalog/money';
import { PriceCatalog } from '../catalog/price-catalog';
import { rateUsage, SegmentUsage } from '../catalog/rating';
import { BillingPeriod } from './billing-period';
import { CreditGrant, OfferedGrant, planGrant } from './credit-grants';
import { buildInvoice } from './invoice-builder';
import { grantConsumption } from './invoice-lines';
import { InvoiceDocument, InvoiceLine } from './invoice';
import {
  buildThresholdInvoice,
  heldToThresholds,
  thresholdInvoiceId,
  thresholdReached,
} from './threshold-invoices';
import { spendFigures } from './spend';
import { billingThresholdInForce } from '../workspaces/billing-threshold';

const period = BillingPeriod.parse('2026-10')!;
const team = { plan: 'team', base_fee: '250.00', monthly_credits: '100.00' };
// A price change in the middle of the month: lines have two price pieces.
const catalog = new PriceCatalog(
  [{ effective_from: '2026-10-14T09:30:00.000Z', gpu_per_second: { H100: '0.0012345' } }],
  [],
);
const segments = catalog.segments(period.startMs, period.endMs);

function rng(seed: number) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

/** Usage rows growing over the month: each step adds some to random (segment, GPU, app, function) rows. */
function usageSteps(seed: number, steps: number): SegmentUsage[][] {
  const r = rng(seed);
  const rows = new Map<string, SegmentUsage>();
  const out: SegmentUsage[][] = [];
  for (let i = 0; i < steps; i++) {
    for (let k = 0; k < 6; k++) {
      const segment = Math.floor(r() * segments.length);
      const gpu_type = ['H100', 'A10G', 'L4'][Math.floor(r() * 3)];
      const app_id = `app_${Math.floor(r() * 3)}`;
      const function_id = `fn_${Math.floor(r() * 2)}`;
      const key = `${segment}|${gpu_type}|${app_id}|${function_id}`;
      const row = rows.get(key) ?? {
        segment,
        gpu_type,
        app_id,
        function_id,
        gpu_ms: 0n,
        cpu_millicore_ms: 0n,
        memory_mib_ms: 0n,
      };
      row.gpu_ms += BigInt(Math.floor(r() * 900_000_000));
      row.cpu_millicore_ms += BigInt(Math.floor(r() * 4_000_000_000));
      row.memory_mib_ms += BigInt(Math.floor(r() * 60_000_000_000));
      rows.set(key, row);
    }
    out.push([...rows.values()].map((x) => ({ ...x })));
  }
  return out;
}

const promo: CreditGrant = {
  grant_id: 'cg_promo',
  workspace_id: 'ws',
  kind: 'promotional',
  amount: '75.00',
  priority: 10,
  effective_at_ms: period.startMs,
  expires_at_ms: null,
  voided_at_ms: null,
  created_at_ms: period.startMs,
  reason: 'welcome',
};

/** The grants offered to the month as a whole: each less nothing (a fresh workspace). */
function offered(): OfferedGrant[] {
  return [planGrant('ws', period, team), promo].map((grant) => ({
    grant,
    available: new Money(grant.amount),
  }));
}

function byKey(lines: readonly InvoiceLine[]) {
  const out = new Map<string, { amount: Money; quantity: Money }>();
  for (const l of lines) {
    const e = out.get(l.key) ?? { amount: new Money(0), quantity: new Money(0) };
    e.amount = e.amount.plus(l.amount);
    e.quantity = e.quantity.plus(l.quantity);
    out.set(l.key, e);
  }
  return out;
}

function pieces(lines: readonly InvoiceLine[]) {
  const out = new Map<string, Money>();
  for (const l of lines)
    for (const p of l.prices) {
      const k = `${l.key}|${p.from}|${p.unit_price}`;
      out.set(k, (out.get(k) ?? new Money(0)).plus(p.amount));
    }
  return out;
}

describe('threshold invoices', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])(
    'a month billed in parts adds up, line by line, to the month billed at once (seed %i)',
    (seed) => {
      const steps = usageSteps(seed, 4);
      const threshold = '150.00';
      const billed: InvoiceDocument[] = [];
      // Threshold invoices on the first three steps' usage, when due; the month-end on the last.
      for (const usage of steps.slice(0, 3)) {
        const consumed = grantConsumption(
          billed.flatMap((d) => d.lines),
          period.toString(),
        );
        const doc = buildThresholdInvoice({
          workspaceId: 'ws',
          period,
          plan: team,
          charges: rateUsage(catalog, segments, usage),
          grants: offered(),
          grantBalances: offered().map(({ grant }) => ({
            grant,
            balance: new Money(grant.amount).minus(consumed.get(grant.grant_id) ?? 0),
          })),
          earlier: billed,
          billingThreshold: threshold,
          usageAsOfMs: period.startMs + 1000,
          computedAt: new Date(0),
        });
        expect(doc.id).toBe(thresholdInvoiceId('ws', '2026-10', billed.length + 1));
        expect(doc.lines.some((l) => l.kind === 'plan_fee')).toBe(false);
        if (thresholdReached(doc, threshold)) billed.push(doc);
      }
      expect(billed.length).toBeGreaterThan(0);
      const whole = buildInvoice({
        workspaceId: 'ws',
        period,
        plan: team,
        charges: rateUsage(catalog, segments, steps[3]),
        adjustments: [],
        grants: offered(),
        computedAt: new Date(0),
      });
      const rest = buildInvoice({
        workspaceId: 'ws',
        period,
        plan: team,
        charges: rateUsage(catalog, segments, steps[3]),
        adjustments: [],
        grants: offered(),
        thresholdInvoices: billed,
        computedAt: new Date(0),
      });
      expect(rest.threshold_invoices).toEqual(billed.map((d) => d.id));
      const all = [...billed, rest];
      const sum = byKey(all.flatMap((d) => d.lines));
      const once = byKey(whole.lines);
      expect([...sum.keys()].sort()).toEqual([...once.keys()].sort());
      for (const [key, w] of once) {
        expect(sum.get(key)!.amount.toFixed(2)).toBe(w.amount.toFixed(2));
        expect(sum.get(key)!.quantity.toFixed()).toBe(w.quantity.toFixed());
      }
      // Each price piece's exact amount too, and the totals.
      const p = pieces(all.flatMap((d) => d.lines));
      for (const [k, amount] of pieces(whole.lines)) expect(p.get(k)!.toFixed()).toBe(amount.toFixed());
      const total = all.reduce((a, d) => a.plus(d.total), new Money(0));
      expect(total.toFixed(2)).toBe(whole.total);
      // Every part is whole cents, and each line of a later part names what came before.
      for (const d of all) for (const l of d.lines) expect(l.amount).toMatch(/^-?\d+\.\d\d$/);
      // billed_before is exactly what the threshold invoices billed on that line, and absent
      // where they billed nothing on it.
      const before = byKey(billed.flatMap((d) => d.lines));
      expect(rest.lines.filter((l) => before.has(l.key)).length).toBeGreaterThan(0);
      for (const l of rest.lines) {
        const b = before.get(l.key);
        expect({ key: l.key, billed_before: l.billed_before }).toEqual({
          key: l.key,
          billed_before:
            b === undefined ? undefined : { quantity: b.quantity.toFixed(), amount: b.amount.toFixed(2) },
        });
      }
    },
  );

  it('bills nothing twice: the next one is the usage since, and is not due below the threshold', () => {
    const [usage] = usageSteps(11, 1);
    const common = {
      workspaceId: 'ws',
      period,
      plan: team,
      charges: rateUsage(catalog, segments, usage),
      grants: offered(),
      grantBalances: [],
      billingThreshold: '1.00',
      usageAsOfMs: period.startMs,
      computedAt: new Date(0),
    };
    const first = buildThresholdInvoice({ ...common, earlier: [] });
    expect(thresholdReached(first, '1.00')).toBe(true);
    const again = buildThresholdInvoice({ ...common, earlier: [first] });
    expect(again.id).toMatch(/_t2$/);
    expect(again.lines).toEqual([]);
    expect(again.total).toBe('0.00');
    expect(thresholdReached(again, '1.00')).toBe(false);
    expect(thresholdReached({ ...first, total: '0.99' }, '1.00')).toBe(false);
    expect(thresholdReached({ ...first, total: '1.00' }, '1.00')).toBe(true);
  });

  it('spend so far counts what threshold invoices billed, and their credits in the forecast', () => {
    const [usage] = usageSteps(5, 1);
    const now = new Date(period.startMs + 10 * 86_400_000);
    const t1 = buildThresholdInvoice({
      workspaceId: 'ws',
      period,
      plan: team,
      charges: rateUsage(catalog, segments, usage),
      grants: offered(),
      grantBalances: [],
      earlier: [],
      billingThreshold: '1.00',
      usageAsOfMs: now.getTime(),
      computedAt: now,
    });
    const up = buildInvoice({
      workspaceId: 'ws',
      period,
      plan: team,
      charges: rateUsage(catalog, segments, usage),
      adjustments: [],
      grants: offered(),
      thresholdInvoices: [t1],
      computedAt: now,
    });
    const whole = buildInvoice({
      workspaceId: 'ws',
      period,
      plan: team,
      charges: rateUsage(catalog, segments, usage),
      adjustments: [],
      grants: offered(),
      computedAt: now,
    });
    const split = spendFigures(up, new Date(Date.UTC(2026, 9, 11)), [t1]);
    const once = spendFigures(whole, new Date(Date.UTC(2026, 9, 11)));
    expect(split.spendSoFar.toFixed(2)).toBe(once.spendSoFar.toFixed(2));
    expect(split.usage.toFixed(2)).toBe(once.usage.toFixed(2));
  });

  it("a workspace's own threshold wins over its plan's; none at all is a choice too", () => {
    const plans = new PriceCatalog(
      [],
      [
        {
          effective_from: '2026-09-01T00:00:00Z',
          plan: 'team',
          base_fee: '250.00',
          monthly_credits: '100.00',
          billing_threshold: '500.00',
        },
        // A later change that does not name a threshold keeps the plan's.
        {
          effective_from: '2026-11-01T00:00:00Z',
          plan: 'team',
          base_fee: '300.00',
          monthly_credits: '100.00',
        },
        {
          effective_from: '2026-12-01T00:00:00Z',
          plan: 'team',
          base_fee: '300.00',
          monthly_credits: '100.00',
          billing_threshold: null,
        },
      ],
    );
    const at = (iso: string) => Date.parse(iso);
    expect(plans.billingThresholdAt('team', at('2026-08-01T00:00:00Z'))).toBeNull();
    expect(plans.billingThresholdAt('team', at('2026-10-01T00:00:00Z'))).toBe('500.00');
    expect(plans.billingThresholdAt('team', at('2026-11-01T00:00:00Z'))).toBe('500.00');
    expect(plans.billingThresholdAt('team', at('2026-12-01T00:00:00Z'))).toBeNull();
    expect(plans.billingThresholdAt('starter', at('2026-10-01T00:00:00Z'))).toBeNull();
    const own = new Map<string, string | null>([
      ['a', '50.00'],
      ['b', null],
    ]);
    const oct = at('2026-10-01T00:00:00Z');
    expect(billingThresholdInForce(own, 'a', plans, 'team', oct)).toEqual({
      billing_threshold: '50.00',
      source: 'workspace',
    });
    expect(billingThresholdInForce(own, 'b', plans, 'team', oct)).toEqual({
      billing_threshold: null,
      source: 'workspace',
    });
    expect(billingThresholdInForce(own, 'c', plans, 'team', oct)).toEqual({
      billing_threshold: '500.00',
      source: 'plan',
    });
  });
});

describe('heldToThresholds: who is held to a billing threshold in a month', () => {
  const oct = BillingPeriod.parse('2026-10')!;
  const catalog = new PriceCatalog(
    [],
    [
      {
        effective_from: '2026-01-01T00:00:00.000Z',
        plan: 'team',
        base_fee: '250.00',
        monthly_credits: '100.00',
        billing_threshold: '500.00',
      },
    ],
  );
  const assignments = new Map([
    ['ws_team', [{ plan: 'team', effective_from_ms: 0 }]],
    ['ws_starter', [{ plan: 'starter', effective_from_ms: 0 }]],
    ['ws_own', [{ plan: 'starter', effective_from_ms: 0 }]],
    ['ws_none', [{ plan: 'team', effective_from_ms: 0 }]],
  ]);
  const own = new Map<string, string | null>([
    ['ws_own', '50.00'],
    ['ws_none', null],
  ]);

  it.each([
    [
      'everyone with a plan assignment',
      undefined,
      [
        ['ws_own', '50.00'],
        ['ws_team', '500.00'],
      ],
    ],
    ['only the workspaces asked for', ['ws_team', 'ws_starter'], [['ws_team', '500.00']]],
  ])('%s: the plan’s threshold, or its own (null: none at all)', (_name, workspaceIds, expected) => {
    const held = heldToThresholds({ own, assignments, catalog, period: oct, workspaceIds });
    expect([...held].sort()).toEqual(expected);
  });
});
