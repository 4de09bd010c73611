import { PriceCatalog } from '../catalog/price-catalog';
import { BillingPeriod } from './billing-period';
import { CreditGrant, GrantLedger } from './credit-grants';
import { grantStatesOf, offerGrants, stateOf } from './grant-allocation';
import { InvoiceDocument } from './invoice';
import { buildInvoice } from './invoice-builder';
import { grantConsumption } from './invoice-lines';
import { adjustablePeriods, unbilledLines } from './late-usage';
import { grant, usageOf } from './testing/fixtures';

const month = (p: string) => BillingPeriod.parse(p)!;
const sep = month('2026-09');
const nov = month('2026-11');
const catalog = new PriceCatalog();
const starter = { plan: 'starter', base_fee: '0.00', monthly_credits: '30.00' };
const team = { plan: 'team', base_fee: '250.00', monthly_credits: '100.00' };
const AT = new Date(Date.UTC(2026, 11, 1));

describe('adjustablePeriods: the closed months late usage can still reach', () => {
  it.each([
    [
      'closed months before the period, oldest first',
      ['2026-09', '2026-08'],
      month('2026-01').startMs,
      ['2026-08', '2026-09'],
    ],
    [
      'one ending at the horizon is out of reach',
      ['2026-07', '2026-08'],
      month('2026-08').startMs,
      ['2026-08'],
    ],
    [
      'the period itself and later months are not adjusted',
      ['2026-11', '2026-12', '2026-10'],
      0,
      ['2026-10'],
    ],
    ['none closed', [], 0, []],
  ])('%s', (_name, closed, horizon, expected) => {
    expect(adjustablePeriods(closed.map(month), nov, horizon).map(String)).toEqual(expected);
  });
});

/** September as it was invoiced: `billed` of H100 usage on `plan`, with these grants. */
function septemberInvoice(billed: string, plan = starter, grants: CreditGrant[] = []) {
  const s = stateOf(grantStatesOf(new Map([['ws', grants]]), new Map()), 'ws');
  return buildInvoice({
    workspaceId: 'ws',
    period: sep,
    plan,
    charges: usageOf(sep, 'ws', billed).get('ws')!,
    adjustments: [],
    grants: offerGrants(s, 'ws', sep, plan),
    computedAt: AT,
  });
}

/**
 * The adjustment lines November's invoice gets for September, now that its usage is `now`,
 * from the grants and the ledger the projection keeps (what the finalized invoices took).
 */
function adjust(input: {
  invoiced: InvoiceDocument[];
  now: string;
  plan?: typeof starter;
  grants?: CreditGrant[];
}) {
  const ledger = new GrantLedger();
  for (const d of input.invoiced)
    for (const [id, m] of grantConsumption(d.lines, d.period)) ledger.add(id, m);
  const states = grantStatesOf(new Map([['ws', input.grants ?? []]]), new Map([['ws', ledger]]));
  const lines = unbilledLines({
    catalog,
    adjusted: sep,
    invoicePeriod: nov,
    finalized: input.invoiced,
    assignments: new Map([['ws', [{ plan: (input.plan ?? starter).plan, effective_from_ms: 0 }]]]),
    states,
    rated: usageOf(sep, 'ws', input.now),
  });
  return {
    lines: (lines.get('ws') ?? []).map((l) => [l.key, l.amount]),
    ledger: stateOf(states, 'ws').ledger,
  };
}

describe('unbilledLines: a closed month’s usage now, less what was billed for it', () => {
  it.each([
    ['nothing late: no line', '40.00', '40.00', []],
    [
      '10.00 late, the plan’s credits used up in September: +10.00',
      '40.00',
      '50.00',
      [['adjustment:2026-09:gpu:H100', '10.00']],
    ],
    [
      '10.00 late, 20.00 of the plan’s credits left: usage +10.00 and credits −10.00',
      '10.00',
      '20.00',
      [
        ['adjustment:2026-09:gpu:H100', '10.00'],
        ['adjustment:2026-09:credits', '-10.00'],
      ],
    ],
  ])('%s', (_name, billed, now, expected) => {
    expect(adjust({ invoiced: [septemberInvoice(billed)], now }).lines).toEqual(expected);
  });

  it('a workspace that got no September invoice is charged no base fee for it now', () => {
    // Team's 100.00 of credits apply; its 250.00 fee does not.
    expect(adjust({ invoiced: [], now: '300.00', plan: team }).lines).toEqual([
      ['adjustment:2026-09:gpu:H100', '300.00'],
      ['adjustment:2026-09:credits', '-100.00'],
    ]);
  });

  it.each([
    // September: 100.00 of usage took the plan's 30.00, then 70.00 of a 100.00 grant.
    ['late usage takes more of the grant', '100.00', '120.00', 90, '20.00'],
    // The grant (50.00) was used up in September: the late 10.00 is billed whole.
    ['a grant used up gives nothing more', '100.00', '110.00', 50, null],
  ])('%s, and the ledger says so', (_name, billed, now, grantAmount, credited) => {
    const grants = [grant('cg_a', { amount: grantAmount === 90 ? '100.00' : '50.00' })];
    const { lines, ledger } = adjust({ invoiced: [septemberInvoice(billed, starter, grants)], now, grants });
    const usage = ['adjustment:2026-09:gpu:H100', (Number(now) - Number(billed)).toFixed(2)];
    expect(lines).toEqual(
      credited ? [usage, ['adjustment:2026-09:credit_grant:cg_a', `-${credited}`]] : [usage],
    );
    expect(ledger.consumedOf('cg_a').toFixed(2)).toBe(grantAmount.toFixed(2));
  });
});
