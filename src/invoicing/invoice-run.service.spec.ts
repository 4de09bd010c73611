import { Clock } from '../platform/clock';
import { loadConfig } from '../config/app-config';
import { InvoiceRunState } from './invoice-events';
import { InvoiceRunService } from './invoice-run.service';
import { BillingPeriod } from './billing-period';

function service(stored: InvoiceRunState | undefined, grace = '72') {
  const invoices = { run: async () => stored };
  // Only the configuration and the runs projection are used by what is tested here.
  const unused = undefined as never;
  return new InvoiceRunService(
    loadConfig({ INVOICE_GRACE_HOURS: grace }),
    unused,
    unused,
    invoices as never,
    unused,
    unused,
    unused,
    unused,
    unused,
    new Clock(),
  );
}

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
  counts: {
    invoices: 0,
    drafted: 0,
    finalized: 0,
    already_finalized: 0,
    pushed: 0,
    already_pushed: 0,
    push_failed: 0,
  },
  errors: [],
  pid: 1,
});

describe('InvoiceRunService', () => {
  it('shows a run whose process stopped beating as abandoned, a beating one as running', async () => {
    const now = Date.parse('2026-11-28T10:00:00Z');
    expect((await service(run('running', '2026-11-28T09:58:00Z')).get('run_1', now))?.status).toBe(
      'abandoned',
    );
    expect((await service(run('running', '2026-11-28T09:59:50Z')).get('run_1', now))?.status).toBe('running');
    expect((await service(run('completed', '2026-11-28T09:00:00Z')).get('run_1', now))?.status).toBe(
      'completed',
    );
    expect(await service(undefined).get('run_x', now)).toBeUndefined();
  });

  it('finalizes a month only after its grace period', () => {
    const october = BillingPeriod.parse('2026-10')!;
    const s = service(undefined, '72');
    expect(s.isFinalizable(october, Date.parse('2026-11-03T23:59:59Z'))).toBe(false);
    expect(s.isFinalizable(october, Date.parse('2026-11-04T00:00:00Z'))).toBe(true);
  });

  it('draws up threshold invoices of a month from its start until 10 minutes before it may be finalized', () => {
    const october = BillingPeriod.parse('2026-10')!;
    const s = service(undefined, '72');
    expect(s.thresholdBillable(october, Date.parse('2026-09-30T23:59:59.999Z'))).toBe(false);
    expect(s.thresholdBillable(october, Date.parse('2026-10-01T00:00:00Z'))).toBe(true);
    expect(s.thresholdBillable(october, Date.parse('2026-11-03T23:49:59.999Z'))).toBe(true);
    expect(s.thresholdBillable(october, Date.parse('2026-11-03T23:50:00Z'))).toBe(false);
    // No grace: they stop 10 minutes before the month ends, and never overlap its finalization.
    const none = service(undefined, '0');
    expect(none.thresholdBillable(october, Date.parse('2026-10-31T23:49:59Z'))).toBe(true);
    expect(none.thresholdBillable(october, Date.parse('2026-10-31T23:50:00Z'))).toBe(false);
    for (const ms of [Date.parse('2026-10-31T23:50:00Z'), Date.parse('2026-11-04T00:00:00Z')])
      expect(s.thresholdBillable(october, ms) && s.isFinalizable(october, ms)).toBe(false);
  });

  it('refuses a threshold run too close to finalization, naming the period', () => {
    const s = service(undefined, '0');
    expect(() => s.start(BillingPeriod.parse('2020-01')!, 'api', 'threshold')).toThrow(
      expect.objectContaining({ message: expect.stringContaining('threshold invoices of 2020-01') }),
    );
  });
});
