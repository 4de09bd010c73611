import { Money } from '../catalog/money';
import { RatedCharge } from '../catalog/rating';
import { charge as chargeOver } from './testing/fixtures';
import { BillingPeriod } from './billing-period';
import { PlanTerms } from '../catalog/price-catalog';
import { OfferedGrant, planGrant } from './credit-grants';
import { adjustmentLines, billedByKey, billedForPeriod } from './billed-lines';
import { buildInvoice } from './invoice-builder';
import { periodLines } from './invoice-lines';

/** The plan's monthly credits offered whole (nothing of them consumed yet). */
function planCredits(plan: PlanTerms, month = '2026-10'): OfferedGrant[] {
  const grant = planGrant('ws', BillingPeriod.parse(month)!, plan);
  return [{ grant, available: new Money(grant.amount) }];
}

const period = BillingPeriod.parse('2026-10')!;
const team = { plan: 'team', base_fee: '250.00', monthly_credits: '100.00' };
const starter = { plan: 'starter', base_fee: '0.00', monthly_credits: '30.00' };

/** A charge of `amount` over the whole of October (testing/fixtures.ts). */
const charge = (key: string, amount: string, quantityMs = 1000n): RatedCharge =>
  chargeOver(period, key, amount, quantityMs);

describe('BillingPeriod', () => {
  it('is a UTC calendar month, half-open', () => {
    expect(period.startMs).toBe(Date.UTC(2026, 9, 1));
    expect(period.endMs).toBe(Date.UTC(2026, 10, 1));
    expect(BillingPeriod.parse('2026-12')!.next().toString()).toBe('2027-01');
    expect(BillingPeriod.parse('2027-01')!.previous().toString()).toBe('2026-12');
    expect(BillingPeriod.containing(Date.UTC(2026, 10, 1) - 1).toString()).toBe('2026-10');
    expect(BillingPeriod.parse('2026-13')).toBeUndefined();
  });
});

describe('invoice builder', () => {
  it('rounds each line once, half-up, and totals the rounded lines', () => {
    const doc = buildInvoice({
      workspaceId: 'ws',
      period,
      plan: team,
      charges: new Map([
        ['gpu:H100', charge('gpu:H100', '100.005')],
        ['cpu', charge('cpu', '0.004')],
        ['memory', charge('memory', '0.0049')],
      ]),
      adjustments: [],
      grants: planCredits(team),
      computedAt: new Date(0),
    });
    expect(doc.lines.map((l) => [l.key, l.amount])).toEqual([
      ['gpu:H100', '100.01'],
      ['cpu', '0.00'],
      ['memory', '0.00'],
      ['plan_fee', '250.00'],
      ['credits', '-100.00'],
    ]);
    expect(doc.usage_subtotal).toBe('100.01');
    expect(doc.total).toBe('250.01');
    expect(doc.id).toBe('inv_2026-10_ws');
    expect(doc.lines[0].id).toBe('inv_2026-10_ws:gpu:H100');
  });

  it('never gives more credits than the usage they offset, and none against the fee', () => {
    const lines = periodLines(
      'ws',
      '2026-10',
      team,
      new Map([['gpu:T4', charge('gpu:T4', '12.344')]]),
      planCredits(team, '2026-10'),
    );
    expect(lines.find((l) => l.kind === 'credits')!.amount).toBe('-12.34');
    const none = periodLines('ws', '2026-10', team, new Map(), planCredits(team, '2026-10'));
    expect(none.map((l) => l.kind)).toEqual(['plan_fee']);
    expect(periodLines('ws', '2026-10', starter, new Map(), planCredits(starter, '2026-10'))).toEqual([]);
  });

  it('computes the same ids and content from the same usage, whatever order it is read in and whenever', () => {
    const charges: Array<[string, RatedCharge]> = [
      ['gpu:L4', charge('gpu:L4', '3')],
      ['memory', charge('memory', '0.25')],
      ['gpu:H100', charge('gpu:H100', '7.255')],
      ['cpu', charge('cpu', '0.5')],
    ];
    const input = { workspaceId: 'ws', period, plan: starter, adjustments: [], grants: planCredits(starter) };
    const first = buildInvoice({ ...input, charges: new Map(charges), computedAt: new Date(0) });
    const again = buildInvoice({
      ...input,
      charges: new Map([...charges].reverse()),
      computedAt: new Date(86_400_000),
    });
    expect(again.computed_at).toBe(new Date(86_400_000).toISOString());
    expect(JSON.stringify({ ...again, computed_at: first.computed_at })).toBe(JSON.stringify(first));
    // What those ids and amounts are, written out: not the builder's own word for it.
    expect(first.lines.map((l) => [l.id, l.amount])).toEqual([
      ['inv_2026-10_ws:gpu:H100', '7.26'],
      ['inv_2026-10_ws:gpu:L4', '3.00'],
      ['inv_2026-10_ws:cpu', '0.50'],
      ['inv_2026-10_ws:memory', '0.25'],
      ['inv_2026-10_ws:credits', '-11.01'],
    ]);
    expect(first.total).toBe('0.00');
  });

  it('adjusts a finalized period by what is now known minus everything billed for it', () => {
    const billed = periodLines(
      'ws',
      '2026-10',
      starter,
      new Map([['gpu:H100', charge('gpu:H100', '20.00')]]),
      planCredits(starter, '2026-10'),
    );
    // late usage: +15.00 of H100 → 35.00, credits grow from 20.00 to 30.00
    const now = periodLines(
      'ws',
      '2026-10',
      starter,
      new Map([['gpu:H100', charge('gpu:H100', '35.00', 2000n)]]),
      planCredits(starter, '2026-10'),
    );
    const adj = adjustmentLines('ws', '2026-11', '2026-10', now, billedByKey(billed, '2026-10'));
    expect(adj.map((l) => [l.key, l.amount, l.quantity])).toEqual([
      ['adjustment:2026-10:gpu:H100', '15.00', '1'],
      ['adjustment:2026-10:credits', '-10.00', '10'],
    ]);
    expect(adj[0].id).toBe('inv_2026-11_ws:adjustment:2026-10:gpu:H100');
    // After that adjustment is billed, nothing more is due for the period.
    const again = adjustmentLines(
      'ws',
      '2026-12',
      '2026-10',
      now,
      billedByKey([...billed, ...adj], '2026-10'),
    );
    expect(again).toEqual([]);
  });

  it("counts as billed for a period its own invoice and later adjustments for it, never a later month's own lines", () => {
    const team = { plan: 'team', base_fee: '250.00', monthly_credits: '100.00' };
    const october = periodLines(
      'ws',
      '2026-10',
      team,
      new Map([['gpu:H100', charge('gpu:H100', '20.00')]]),
      planCredits(team, '2026-10'),
    );
    const octoberNow = periodLines(
      'ws',
      '2026-10',
      team,
      new Map([['gpu:H100', charge('gpu:H100', '35.00', 2000n)]]),
      planCredits(team, '2026-10'),
    );
    // November's invoice: its own month (fee, usage, credits) plus October's adjustment.
    const novemberOwn = periodLines(
      'ws',
      '2026-11',
      team,
      new Map([['gpu:H100', charge('gpu:H100', '50.00')]]),
      planCredits(team, '2026-11'),
    );
    const octoberAdjustment = adjustmentLines(
      'ws',
      '2026-11',
      '2026-10',
      octoberNow,
      billedForPeriod('2026-10', october, []),
    );
    expect(octoberAdjustment.length).toBeGreaterThan(0);
    // Invoicing December: October is fully billed; November's fee and usage are not October's.
    const december = adjustmentLines(
      'ws',
      '2026-12',
      '2026-10',
      octoberNow,
      billedForPeriod('2026-10', october, [...novemberOwn, ...octoberAdjustment]),
    );
    expect(december).toEqual([]);
  });
});
