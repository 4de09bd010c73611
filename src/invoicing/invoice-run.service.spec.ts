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
});
