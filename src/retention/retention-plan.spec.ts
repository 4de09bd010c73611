import { DAY_MS } from '../common/time';
import { BillingPeriod } from '../invoicing/billing-period';
import { planRetention, readBeforeRetiring } from './retention-plan';

const p = (s: string) => BillingPeriod.parse(s)!;

describe('raw event retention plan', () => {
  const closed = [p('2026-09'), p('2026-07'), p('2026-08')];
  const now = Date.UTC(2026, 10, 15); // 2026-11-15

  it('retires closed months that ended at least the retention ago, oldest first; keeps the rest with their date', () => {
    const plan = planRetention({ closed, retiredMonths: new Set(), retentionDays: 60, nowMs: now });
    expect(plan.map((d) => [d.period.toString(), d.action])).toEqual([
      ['2026-07', 'retire'], // ended 08-01: 106 days ago
      ['2026-08', 'retire'], // ended 09-01: 75 days ago
      ['2026-09', 'keep'], // ended 10-01: 45 days ago
    ]);
    expect(plan[2]).toMatchObject({ untilMs: Date.UTC(2026, 9, 1) + 60 * DAY_MS });
  });

  it('retires on the day the retention is over, not a millisecond before', () => {
    const until = Date.UTC(2026, 9, 1) + 45 * DAY_MS;
    const at = (nowMs: number) =>
      planRetention({ closed: [p('2026-09')], retiredMonths: new Set(), retentionDays: 45, nowMs })[0].action;
    expect(at(until - 1)).toBe('keep');
    expect(at(until)).toBe('retire');
  });

  it('says which months are retired already; an open month is never in the plan', () => {
    const plan = planRetention({
      closed,
      retiredMonths: new Set(['2026-07']),
      retentionDays: 60,
      nowMs: now,
    });
    expect(plan.map((d) => d.action)).toEqual(['retired', 'retire', 'keep']);
    expect(planRetention({ closed: [], retiredMonths: new Set(), retentionDays: 3, nowMs: now })).toEqual([]);
  });

  it('waits for every record an event of the month could still be in: its end + the accepted age + a day', () => {
    expect(readBeforeRetiring(p('2026-09'), 35)).toBe(Date.UTC(2026, 9, 1) + 36 * DAY_MS);
  });
});
