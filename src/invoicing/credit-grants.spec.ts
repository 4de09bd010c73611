import fc from 'fast-check';
import { Money } from '../catalog/money';
import { BillingPeriod } from './billing-period';
import {
  allocate,
  compareGrants,
  CreditGrant,
  GrantLedger,
  inForceDuring,
  planGrant,
  unusedBalance,
} from './credit-grants';
import { grantUses } from './invoice-builder';
import { grantConsumption, periodLines } from './invoice-lines';

const oct = BillingPeriod.parse('2026-10')!;
const DAY = 86_400_000;

function grant(id: string, over: Partial<CreditGrant> = {}): CreditGrant {
  return {
    grant_id: id,
    workspace_id: 'ws',
    kind: 'promotional',
    amount: '100.00',
    priority: 50,
    effective_at_ms: oct.startMs - 10 * DAY,
    expires_at_ms: null,
    voided_at_ms: null,
    created_at_ms: oct.startMs - 10 * DAY,
    reason: 'test',
    ...over,
  };
}

describe('credit grants: order, force, balance', () => {
  it('consumes by priority, then earliest expiry (none last), then oldest, then id', () => {
    const grants = [
      grant('cg_late', { priority: 10, effective_at_ms: oct.startMs }),
      grant('cg_noexp', { priority: 10, effective_at_ms: oct.startMs - DAY }),
      grant('cg_exp2', { priority: 10, expires_at_ms: oct.endMs + 2 * DAY }),
      grant('cg_exp1', { priority: 10, expires_at_ms: oct.endMs + DAY }),
      grant('cg_prio0', { priority: 0 }),
      grant('cg_b', { priority: 90 }),
      grant('cg_a', { priority: 90 }),
    ];
    expect([...grants].sort(compareGrants).map((g) => g.grant_id)).toEqual([
      'cg_prio0',
      'cg_exp1',
      'cg_exp2',
      'cg_noexp',
      'cg_late',
      'cg_a',
      'cg_b',
    ]);
  });

  it('is in force for a month it overlaps, until it expires or is voided', () => {
    expect(inForceDuring(grant('g'), oct)).toBe(true);
    expect(inForceDuring(grant('g', { effective_at_ms: oct.endMs }), oct)).toBe(false);
    expect(inForceDuring(grant('g', { effective_at_ms: oct.endMs - 1 }), oct)).toBe(true);
    expect(inForceDuring(grant('g', { expires_at_ms: oct.startMs }), oct)).toBe(false);
    expect(inForceDuring(grant('g', { expires_at_ms: oct.startMs + 1 }), oct)).toBe(true);
    expect(inForceDuring(grant('g', { voided_at_ms: oct.startMs }), oct)).toBe(false);
    expect(inForceDuring(grant('g', { voided_at_ms: oct.startMs + 1 }), oct)).toBe(true);
  });

  it('leaves its amount less what was taken, and nothing once voided', () => {
    expect(unusedBalance(grant('g'), new Money('30.25')).toFixed(2)).toBe('69.75');
    expect(unusedBalance(grant('g'), new Money('130')).toFixed(2)).toBe('0.00');
    expect(unusedBalance(grant('g', { voided_at_ms: 1 }), new Money(0)).toFixed(2)).toBe('0.00');
  });

  it('allocates min(amount, Σ available) in order, never more than a grant has (property)', () => {
    const cents = fc.integer({ min: 0, max: 1_000_000 });
    fc.assert(
      fc.property(
        cents,
        fc.array(fc.record({ priority: fc.integer({ min: 0, max: 100 }), available: cents }), {
          maxLength: 8,
        }),
        (amountCents, offers) => {
          const offered = offers.map((o, i) => ({
            grant: grant(`cg_${i}`, { priority: o.priority }),
            available: new Money(o.available).div(100),
          }));
          const amount = new Money(amountCents).div(100);
          const out = allocate(amount, offered);
          const total = out.reduce((a, x) => a.plus(x.applied), new Money(0));
          const offeredTotal = offered.reduce((a, o) => a.plus(o.available), new Money(0));
          expect(total.eq(Money.min(amount, offeredTotal))).toBe(true);
          for (const x of out) {
            const o = offered.find((y) => y.grant === x.grant)!;
            expect(x.applied.gte(0) && x.applied.lte(o.available)).toBe(true);
          }
          // Greedy in order: a grant gives something only when every earlier one is exhausted.
          const sorted = out.map((x) => ({ ...x, o: offered.find((y) => y.grant === x.grant)! }));
          for (let i = 1; i < sorted.length; i++)
            if (sorted[i].applied.gt(0))
              expect(sorted[i - 1].applied.eq(sorted[i - 1].o.available)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('keeps a ledger per grant; a copy is independent', () => {
    const ledger = new GrantLedger([
      { grant_id: 'a', amount: '1.50' },
      { grant_id: 'a', amount: '2.25' },
    ]);
    const copy = ledger.copy();
    copy.add('a', new Money(1));
    expect([
      ledger.consumedOf('a').toFixed(2),
      copy.consumedOf('a').toFixed(2),
      ledger.consumedOf('b').toFixed(2),
    ]).toEqual(['3.75', '4.75', '0.00']);
  });
});

describe('credit grants on an invoice', () => {
  const team = { plan: 'team', base_fee: '250.00', monthly_credits: '100.00' };
  const usage = (amount: string) =>
    new Map([
      [
        'gpu:H100',
        {
          key: 'gpu:H100',
          kind: 'gpu' as const,
          gpu_type: 'H100',
          quantity_ms: 1000n,
          amount: new Money(amount),
          pieces: [],
          breakdown: new Map(),
        },
      ],
    ]);

  it('takes the plan’s credits, then grants in order, up to the usage; the fee is never offset', () => {
    const plan = planGrant('ws', oct, team);
    const promo = grant('cg_promo', { priority: 10, amount: '50.00' });
    const prepaid = grant('cg_prepaid', { kind: 'prepaid', priority: 60, amount: '500.00' });
    const lines = periodLines('ws', '2026-10', team, usage('180.004'), [
      { grant: prepaid, available: new Money('500.00') },
      { grant: promo, available: new Money('50.00') },
      { grant: plan, available: new Money('100.00') },
    ]);
    expect(lines.map((l) => [l.key, l.amount])).toEqual([
      ['gpu:H100', '180.00'],
      ['plan_fee', '250.00'],
      ['credits', '-100.00'],
      ['credit_grant:cg_promo', '-50.00'],
      ['credit_grant:cg_prepaid', '-30.00'],
    ]);
    expect(
      Object.fromEntries([...grantConsumption(lines, '2026-10')].map(([k, v]) => [k, v.toFixed(2)])),
    ).toEqual({
      'plan:2026-10': '100.00',
      cg_promo: '50.00',
      cg_prepaid: '30.00',
    });
    const uses = grantUses(oct, lines, [
      { grant: plan, balance: new Money('100.00') },
      { grant: promo, balance: new Money('50.00') },
      { grant: prepaid, balance: new Money('500.00') },
    ]);
    expect(uses.map((u) => [u.grant_id, u.balance_before, u.applied, u.balance_after, u.expired])).toEqual([
      ['plan:2026-10', '100.00', '100.00', '0.00', '0.00'],
      ['cg_promo', '50.00', '50.00', '0.00', '0.00'],
      ['cg_prepaid', '500.00', '30.00', '470.00', '0.00'],
    ]);
  });

  it('records what is left of a grant that expires with the month as expired', () => {
    const expiring = grant('cg_exp', { expires_at_ms: oct.endMs - DAY, amount: '80.00' });
    const lines = periodLines('ws', '2026-10', { ...team, monthly_credits: '0' }, usage('30.00'), [
      { grant: expiring, available: new Money('80.00') },
    ]);
    const [use] = grantUses(oct, lines, [{ grant: expiring, balance: new Money('80.00') }]);
    expect([use.applied, use.balance_after, use.expired]).toEqual(['30.00', '50.00', '50.00']);
  });
});
