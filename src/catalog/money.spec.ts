import { formatAmount, Money, roundToCents } from './money';

describe('money', () => {
  it('rounds half-up to the cent, once', () => {
    expect(formatAmount(new Money('0.005'))).toBe('0.01');
    expect(formatAmount(new Money('0.0049999'))).toBe('0.00');
    expect(formatAmount(new Money('2.675'))).toBe('2.68'); // a float would give 2.67
    expect(formatAmount(new Money('-0.005'))).toBe('-0.01');
    expect(roundToCents(new Money('123.4550000001')).toString()).toBe('123.46');
  });
  it('is exact where floats are not', () => {
    const a = new Money('0.1').plus('0.2');
    expect(a.equals(new Money('0.3'))).toBe(true);
    // 1 hour of 8 × H100 at 0.001097 USD/s: 28,800 GPU-s
    expect(formatAmount(new Money('0.001097').times(28_800))).toBe('31.59');
  });
});
