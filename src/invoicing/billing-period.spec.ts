import { BillingPeriod } from './billing-period';

describe('BillingPeriod.parse: the one period parser (issue 8)', () => {
  it('takes YYYY-MM within the year range only', () => {
    expect(BillingPeriod.parse('2026-11')?.toString()).toBe('2026-11');
    expect(BillingPeriod.parse('2000-01')?.toString()).toBe('2000-01');
    expect(BillingPeriod.parse('2100-12')?.toString()).toBe('2100-12');
    for (const bad of [
      '0000-01',
      '0-01',
      '1999-12',
      '2101-01',
      '9999-12',
      '2026-13',
      '2026-00',
      '2026-1',
      ' 2026-01',
      2026,
      null,
    ])
      expect(BillingPeriod.parse(bad)).toBeUndefined();
  });

  it('knows whether a month has ended', () => {
    const nov = BillingPeriod.parse('2026-11')!;
    expect(nov.hasEnded(Date.UTC(2026, 11, 1))).toBe(true);
    expect(nov.hasEnded(Date.UTC(2026, 11, 1) - 1)).toBe(false);
  });
});
