import { Money } from '../catalog/money';
import { PriceCatalog } from '../catalog/price-catalog';
import { BillingPeriod } from './billing-period';
import { GrantLedger } from './credit-grants';
import {
  consumeMonth,
  grantStatesOf,
  MAX_CHAIN_MONTHS,
  monthsToChain,
  offerGrants,
  planTermsFor,
  reserveForMonth,
  stateOf,
  thresholdsByMonth,
} from './grant-allocation';
import { buildInvoice } from './invoice-builder';
import { buildThresholdInvoice } from './threshold-invoices';
import { charge, DAY_MS, grant, usageOf } from './testing/fixtures';

const month = (p: string) => BillingPeriod.parse(p)!;
const oct = month('2026-10');
const catalog = new PriceCatalog(
  [],
  [
    {
      effective_from: '2026-10-15T00:00:00.000Z',
      plan: 'scale',
      base_fee: '1000.00',
      monthly_credits: '0.00',
    },
  ],
);
const starter = { plan: 'starter', base_fee: '0.00', monthly_credits: '30.00' };
const AT = new Date(Date.UTC(2026, 11, 1));

describe('planTermsFor: the terms a month is billed on', () => {
  it.each([
    [
      'no assignment: the default plan',
      undefined,
      { plan: 'starter', base_fee: '0.00', monthly_credits: '30.00' },
    ],
    [
      'team from before the month',
      [{ plan: 'team', effective_from_ms: 0 }],
      { plan: 'team', base_fee: '250.00', monthly_credits: '100.00' },
    ],
    [
      'a plan whose terms start mid-month: its first terms in it',
      [{ plan: 'scale', effective_from_ms: 0 }],
      { plan: 'scale', base_fee: '1000.00', monthly_credits: '0.00' },
    ],
    [
      'a plan with no terms at all: list prices, nothing else',
      [{ plan: 'ghost', effective_from_ms: 0 }],
      { plan: 'ghost', base_fee: '0', monthly_credits: '0' },
    ],
    [
      'the plan in force at the month’s start',
      [
        { plan: 'team', effective_from_ms: 0 },
        { plan: 'starter', effective_from_ms: oct.startMs + DAY_MS },
      ],
      { plan: 'team', base_fee: '250.00', monthly_credits: '100.00' },
    ],
  ])('%s', (_name, assignments, expected) => {
    expect(planTermsFor(catalog, assignments, oct)).toEqual(expected);
  });
});

describe('monthsToChain: the months whose drafts take grants before this one', () => {
  const states = (over: Parameters<typeof grant>[1] = {}) =>
    grantStatesOf(new Map([['ws', [grant('cg_a', over)]]]), new Map());

  it.each([
    ['no grant anywhere', grantStatesOf(new Map(), new Map()), [], []],
    ['a grant since August, nothing closed', states(), [], ['2026-08', '2026-09', '2026-10']],
    ['a grant since August, August closed', states(), ['2026-08'], ['2026-09', '2026-10']],
    ['the last closed month counts, not the first', states(), ['2026-08', '2026-09'], ['2026-10']],
    [
      'a closed month after the period is not a bound',
      states(),
      ['2026-12'],
      ['2026-08', '2026-09', '2026-10'],
    ],
    [
      'a grant that expired in September',
      states({ expires_at_ms: month('2026-09').startMs + DAY_MS }),
      [],
      ['2026-08', '2026-09'],
    ],
    [
      `a grant since 1970: at most ${MAX_CHAIN_MONTHS} months back`,
      states({ effective_at_ms: 0 }),
      [],
      [
        '2025-11',
        '2025-12',
        '2026-01',
        '2026-02',
        '2026-03',
        '2026-04',
        '2026-05',
        '2026-06',
        '2026-07',
        '2026-08',
        '2026-09',
        '2026-10',
      ],
    ],
  ])('%s', (_name, s, closed, expected) => {
    expect(monthsToChain(month('2026-11'), closed.map(month), s).map(String)).toEqual(expected);
  });
});

describe('offerGrants, reserveForMonth: what a month may take', () => {
  it('offers the grants in force and the plan’s credits, each with what is left', () => {
    const s = {
      grants: [grant('cg_a'), grant('cg_old', { expires_at_ms: month('2026-09').startMs })],
      ledger: new GrantLedger([{ grant_id: 'cg_a', amount: '40.00' }]),
    };
    const offered = offerGrants(s, 'ws', oct, starter).map((o) => [o.grant.grant_id, o.available.toFixed(2)]);
    expect(offered).toEqual([
      ['cg_a', '60.00'],
      ['plan:2026-10', '30.00'],
    ]);
  });

  it('gives a month’s threshold invoices’ part back, and offers it again to a grant voided since', () => {
    const voided = grant('cg_v', { voided_at_ms: oct.startMs + 20 * DAY_MS });
    const s = { grants: [voided], ledger: new GrantLedger([{ grant_id: 'cg_v', amount: '25.00' }]) };
    const t1 = buildThresholdInvoice({
      workspaceId: 'ws',
      period: oct,
      plan: { ...starter, monthly_credits: '0.00' },
      charges: new Map([['gpu:H100', charge(oct, 'gpu:H100', '25.00')]]),
      grants: [{ grant: { ...voided, voided_at_ms: null }, available: new Money('100.00') }],
      grantBalances: [],
      earlier: [],
      billingThreshold: '10.00',
      usageAsOfMs: oct.startMs + 10 * DAY_MS,
      computedAt: AT,
    });
    const reserved = reserveForMonth(s, [t1], oct);
    expect([...reserved].map(([id, m]) => [id, m.toFixed(2)])).toEqual([['cg_v', '25.00']]);
    expect(s.ledger.consumedOf('cg_v').toFixed(2)).toBe('0.00');
    // Voided: nothing unused is left, but what the month took before is its own again.
    const offered = offerGrants(s, 'ws', oct, { ...starter, monthly_credits: '0.00' }, reserved);
    expect(offered.map((o) => [o.grant.grant_id, o.available.toFixed(2)])).toEqual([
      ['cg_v', '25.00'],
      ['plan:2026-10', '0.00'],
    ]);
    expect([...thresholdsByMonth([t1]).keys()]).toEqual(['ws/2026-10']);
  });
});

describe('consumeMonth: a month not finalized takes its part as its draft would', () => {
  const sep = month('2026-09');
  it.each([
    ['usage 40.00: the plan’s 30.00 first, then 10.00 of the grant', '40.00', [], '10.00'],
    ['usage 20.00: the plan’s credits cover it', '20.00', [], '0.00'],
    ['usage 200.00: the whole grant', '200.00', [], '100.00'],
    ['a month already finalized takes nothing more here', '40.00', ['finalized'], '0.00'],
  ])('%s', (_name, amount, flags, consumed) => {
    const states = grantStatesOf(new Map([['ws', [grant('cg_a')]]]), new Map());
    const finalized = flags.includes('finalized')
      ? [
          buildInvoice({
            workspaceId: 'ws',
            period: sep,
            plan: starter,
            charges: new Map(),
            adjustments: [],
            computedAt: AT,
          }),
        ]
      : [];
    consumeMonth({
      month: sep,
      catalog,
      usage: usageOf(sep, 'ws', amount),
      assignments: new Map([['ws', [{ plan: 'starter', effective_from_ms: 0 }]]]),
      states,
      finalized,
    });
    expect(stateOf(states, 'ws').ledger.consumedOf('cg_a').toFixed(2)).toBe(consumed);
  });

  it('passes over a workspace with neither plan assignment nor usage', () => {
    const states = grantStatesOf(
      new Map([['ws_gone', [grant('cg_a', { workspace_id: 'ws_gone' })]]]),
      new Map(),
    );
    consumeMonth({ month: sep, catalog, usage: new Map(), assignments: new Map(), states, finalized: [] });
    expect(stateOf(states, 'ws_gone').ledger.consumedOf('plan:2026-09').toFixed(2)).toBe('0.00');
  });
});
