import { BillingPeriod } from './billing-period';
import { InvoiceRunState, noRunCounts } from './invoice-events';
import { isFinalizable, refuseRun, runAsSeen, thresholdBillable } from './run-window';

const run = (status: InvoiceRunState['status'], updatedAt: string): InvoiceRunState => ({
  id: 'run_1',
  period: '2026-10',
  trigger: 'cli',
  status,
  finalize: true,
  started_at: updatedAt,
  updated_at: updatedAt,
  finished_at: null,
  version: 3,
  counts: noRunCounts(),
  errors: [],
  pid: 1,
});

const october = BillingPeriod.parse('2026-10')!;
const at = (iso: string) => Date.parse(iso);

describe('run-window: when invoice runs may do what', () => {
  it('shows a run whose process stopped beating as abandoned, a beating one as running', () => {
    const now = at('2026-11-28T10:00:00Z');
    expect(runAsSeen(run('running', '2026-11-28T09:58:00Z'), now)?.status).toBe('abandoned');
    expect(runAsSeen(run('running', '2026-11-28T09:59:50Z'), now)?.status).toBe('running');
    expect(runAsSeen(run('completed', '2026-11-28T09:00:00Z'), now)?.status).toBe('completed');
    expect(runAsSeen(undefined, now)).toBeUndefined();
  });

  it.each([
    [72, '2026-11-03T23:59:59Z', false],
    [72, '2026-11-04T00:00:00Z', true],
    [0, '2026-10-31T23:59:59.999Z', false],
    [0, '2026-11-01T00:00:00Z', true],
  ])('grace %i h: finalizable at %s is %s', (grace, iso, expected) => {
    expect(isFinalizable(october, grace, at(iso))).toBe(expected);
  });

  it.each([
    [72, '2026-09-30T23:59:59.999Z', false],
    [72, '2026-10-01T00:00:00Z', true],
    [72, '2026-11-03T23:49:59.999Z', true],
    [72, '2026-11-03T23:50:00Z', false],
    // No grace: they stop 10 minutes before the month ends.
    [0, '2026-10-31T23:49:59Z', true],
    [0, '2026-10-31T23:50:00Z', false],
  ])('grace %i h: threshold invoices at %s: %s', (grace, iso, expected) => {
    expect(thresholdBillable(october, grace, at(iso))).toBe(expected);
  });

  it('never draws up threshold invoices while the month may be finalized', () => {
    for (const iso of ['2026-10-31T23:50:00Z', '2026-11-04T00:00:00Z', '2027-01-01T00:00:00Z'])
      for (const grace of [0, 72])
        expect(thresholdBillable(october, grace, at(iso)) && isFinalizable(october, grace, at(iso))).toBe(
          false,
        );
  });

  it('refuses a month-end run of an open month and a threshold run too close to finalization, naming the period', () => {
    expect(refuseRun(october, 'month_end', 72, at('2026-10-31T12:00:00Z'))).toContain(
      'period must be a month that has ended (2026-10 ends 2026-11-01T00:00:00.000Z)',
    );
    expect(refuseRun(october, 'month_end', 72, at('2026-11-01T00:00:00Z'))).toBeNull();
    expect(refuseRun(BillingPeriod.parse('2020-01')!, 'threshold', 0, at('2026-12-08T00:00:00Z'))).toContain(
      'threshold invoices of 2020-01',
    );
    expect(refuseRun(october, 'threshold', 72, at('2026-10-15T00:00:00Z'))).toBeNull();
  });
});
