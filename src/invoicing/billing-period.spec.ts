import Ajv from 'ajv';
import fc from 'fast-check';
import { BillingPeriod, PeriodText } from './billing-period';

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

  it('agrees with PeriodText, the schema billing events check a period with', () => {
    const schema = new Ajv({ unicodeRegExp: false }).compile(PeriodText());
    const candidates = fc.oneof(
      fc
        .tuple(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 0, max: 13 }))
        .map(([y, m]) => `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}`),
      fc.string({ maxLength: 9 }),
    );
    fc.assert(
      fc.property(candidates, (text) => schema(text) === (BillingPeriod.parse(text) !== undefined)),
      { numRuns: 5000 },
    );
  });
});
