import fc from 'fast-check';
import { hostileBillingRecord } from './support/hostile-records';
import { billingEventsHarness } from './support/billing-events-harness';
import { isCausedByRecord } from '../src/platform/clickhouse/clickhouse-errors';
import { parseUntrustedJson } from '../src/platform/json/untrusted-json';
import { newBillingEvent } from '../src/platform/billing-events/billing-event';

/** When the events below happened (any fixed instant). */
const AT = new Date(Date.UTC(2026, 9, 1));

describe('billing events: what each type’s schema refuses (issues 8, 25)', () => {
  const { svc } = billingEventsHarness();

  it('refuses every hostile billing record, with a reason', () => {
    fc.assert(
      fc.property(hostileBillingRecord(), (record) => {
        const parsed = parseUntrustedJson(record.value);
        if (!parsed.ok) return; // dead-lettered as invalid-json before any check
        expect(typeof svc.refusal(parsed.value)).toBe('string');
      }),
      { numRuns: 1000 },
    );
  });

  it('accepts what the API publishes', () => {
    const ok = [
      newBillingEvent(
        'workspace.created',
        'ws_a',
        {
          id: 'ws_a',
          name: 'A 😀',
          email: 'a@b.test',
          api_key_hash: 'f'.repeat(64),
          api_key_prefix: 'gpm_ws_abcde',
          plan: 'team',
        },
        AT,
      ),
      newBillingEvent(
        'workspace.budget_set',
        'ws_a',
        { monthly_limit: '500.00', thresholds: [50, 80, 100] },
        AT,
      ),
      newBillingEvent(
        'workspace.key_created',
        'ws_a',
        {
          key_id: 'wk_0123456789abcdef',
          name: 'ci',
          key_hash: 'e'.repeat(64),
          key_prefix: 'gpm_ws_abcde',
        },
        AT,
      ),
      newBillingEvent('workspace.key_revoked', 'ws_a', { key_id: 'wk_0123456789abcdef' }, AT),
      newBillingEvent(
        'agent_token.created',
        'gpumeter',
        {
          token_id: 'at_0123456789abcdef',
          name: 'gpu-host-17',
          sources: ['agent://gpu-host-17', 'agent://rack-4/*'],
          token_hash: 'd'.repeat(64),
          token_prefix: 'gpm_at_abcde',
        },
        AT,
      ),
      newBillingEvent('agent_token.revoked', 'gpumeter', { token_id: 'at_0123456789abcdef' }, AT),
      newBillingEvent('workspace.budget_set', 'ws_a', { monthly_limit: null, thresholds: [] }, AT),
      newBillingEvent(
        'workspace.plan_changed',
        'ws_a',
        {
          plan: 'team',
          effective_from: '2027-01-01T00:00:00.000Z',
        },
        AT,
      ),
      newBillingEvent(
        'catalog.prices_changed',
        'gpumeter',
        {
          effective_from: '2026-11-01T07:23:17.501Z',
          gpu_per_second: { H100: '0.00115' },
        },
        AT,
      ),
      newBillingEvent('invoice.period_closed', 'gpumeter', { period: '2026-10', run_id: 'run_1' }, AT),
    ];
    for (const e of ok) expect(svc.refusal(e)).toBeNull();
  });

  it('names what is wrong: a bogus period, a lone surrogate, another workspace’s invoice', () => {
    expect(
      svc.refusal(newBillingEvent('invoice.period_closed', 'gpumeter', { period: '0-01', run_id: 'r' }, AT)),
    ).toBe('data.period is missing or invalid');
    expect(
      svc.refusal(
        newBillingEvent('workspace.budget_set', 'ws_a', { monthly_limit: '1\ud800', thresholds: [] }, AT),
      ),
    ).toMatch(/well-formed Unicode/);
    const doc = { id: 'inv', workspace_id: 'ws_b', period: '2026-10', currency: 'usd', plan: {}, lines: [] };
    // Deliberately not an InvoiceDocument: what a hand-made record on the topic could hold.
    const malformed = { invoice: doc } as never;
    expect(svc.refusal(newBillingEvent('invoice.drafted', 'ws_a', malformed, AT))).toBe(
      'data.invoice.period_start is missing or invalid',
    );
    const foreign = {
      invoice: {
        ...doc,
        period_start: 'x',
        period_end: 'y',
        usage_subtotal: '0',
        credits_applied: '0',
        total: '0',
        computed_at: 'z',
        plan: { plan: 'starter', base_fee: '0', monthly_credits: '0' },
      },
    } as never;
    expect(svc.refusal(newBillingEvent('invoice.drafted', 'ws_a', foreign, AT))).toBe(
      'data.invoice.workspace_id must be the event subject',
    );
    const badLine = {
      invoice: { ...(foreign as { invoice: object }).invoice, workspace_id: 'ws_a', lines: [{ id: 'l' }] },
    } as never;
    expect(svc.refusal(newBillingEvent('invoice.drafted', 'ws_a', badLine, AT))).toBe(
      'data.invoice.lines[0].key is missing or invalid',
    );
  });

  it('credit grants: what the API publishes passes; a bad amount, kind, priority, id or expiry is refused, named', () => {
    const created = (over: Record<string, unknown> = {}) =>
      newBillingEvent(
        'credit_grant.created',
        'ws_a',
        {
          grant_id: 'cg_welcome',
          amount: '250.00',
          currency: 'usd',
          kind: 'promotional',
          priority: 50,
          effective_at: '2026-11-01T00:00:00.000Z',
          expires_at: null,
          reason: 'welcome',
          ...over,
        } as never,
        AT,
      );
    expect(svc.refusal(created())).toBeNull();
    expect(svc.refusal(created({ expires_at: '2027-01-01T00:00:00Z' }))).toBeNull();
    expect(svc.refusal(created({ amount: '2.505' }))).toBe('data.amount is missing or invalid');
    expect(svc.refusal(created({ amount: 250 }))).toBe('data.amount is missing or invalid');
    expect(svc.refusal(created({ kind: 'plan' }))).toBe('data.kind is missing or invalid');
    expect(svc.refusal(created({ priority: 101 }))).toBe('data.priority is missing or invalid');
    expect(svc.refusal(created({ grant_id: 'welcome' }))).toBe('data.grant_id is missing or invalid');
    expect(svc.refusal(created({ currency: 'eur' }))).toBe('data.currency is missing or invalid');
    expect(svc.refusal(created({ expires_at: '2026-11-01T00:00:00.000Z' }))).toBe(
      'data.expires_at must be after data.effective_at',
    );
    const voided = (data: Record<string, unknown>) =>
      newBillingEvent('credit_grant.voided', 'ws_a', data as never, AT);
    expect(svc.refusal(voided({ grant_id: 'cg_welcome', reason: '' }))).toBeNull();
    expect(svc.refusal(voided({ grant_id: 'cg_welcome' }))).toBe('data.reason is missing or invalid');
  });

  it('an invoice.pushed: with or without Stripe’s hosted page (older events have none), only an https one', () => {
    const pushed = (url?: unknown) =>
      newBillingEvent(
        'invoice.pushed',
        'ws_a',
        {
          invoice_id: 'inv_2026-10_ws_a',
          period: '2026-10',
          stripe_customer_id: 'cus_1',
          stripe_invoice_id: 'in_1',
          stripe_invoice_item_ids: {},
          stripe_finalized: true,
          ...(url === undefined ? {} : { stripe_hosted_invoice_url: url as string }),
        },
        AT,
      );
    expect(svc.refusal(pushed())).toBeNull();
    expect(svc.refusal(pushed(null))).toBeNull();
    expect(svc.refusal(pushed('https://invoice.stripe.com/i/acct_1/test_abc'))).toBeNull();
    for (const bad of ['javascript:alert(1)', 'http://invoice.stripe.com/i/x', 'https://a b', 7])
      expect(svc.refusal(pushed(bad))).toBe('data.stripe_hosted_invoice_url is missing or invalid');
  });
});

describe('isCausedByRecord: dead-letter only what fails because of the record', () => {
  it('classifies ClickHouse data errors, our TypeErrors, and outages', () => {
    expect(
      isCausedByRecord(new Error('Code: 25, e.displayText() = DB::Exception: Cannot parse escape sequence')),
    ).toBe(true);
    expect(isCausedByRecord(new TypeError("Cannot read properties of undefined (reading 'compare')"))).toBe(
      true,
    );
    expect(isCausedByRecord(new Error('Code: 252, e.displayText() = DB::Exception: Too many parts'))).toBe(
      false,
    );
    expect(
      isCausedByRecord(new Error('Code: 60, e.displayText() = DB::Exception: Table x doesn\u2019t exist')),
    ).toBe(false);
    expect(isCausedByRecord(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe(
      false,
    );
    expect(isCausedByRecord(new TypeError('fetch failed', { cause: new Error('ECONNREFUSED') }))).toBe(false);
  });
});
