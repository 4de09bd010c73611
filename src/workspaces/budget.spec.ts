import { Money } from '../catalog/money';
import { budgetStatus } from './budget';

const budget = { monthly_limit: '500.00', thresholds: [50, 80, 100], enforce: false };

describe('budgetStatus', () => {
  it('reaches a threshold exactly when the spend does, not a cent before', () => {
    expect(budgetStatus(budget, new Money('249.99'), new Money('300'), 'usd')).toMatchObject({
      spent_percent: '49.99',
      thresholds_reached: [],
      exceeded: false,
      forecast_exceeds: false,
    });
    expect(budgetStatus(budget, new Money('250.00'), new Money('300'), 'usd').thresholds_reached).toEqual([
      50,
    ]);
  });

  it('shows the percent rounded down, so 79.999 % is not shown as 80 %', () => {
    const s = budgetStatus(budget, new Money('399.995'), new Money('0'), 'usd');
    expect(s.spent_percent).toBe('79.99');
    expect(s.thresholds_reached).toEqual([50]);
  });

  it('is exceeded only above the limit; the 100 % threshold is reached at it', () => {
    expect(budgetStatus(budget, new Money('500.00'), new Money('500'), 'usd')).toMatchObject({
      thresholds_reached: [50, 80, 100],
      exceeded: false,
      forecast_exceeds: false,
    });
    expect(budgetStatus(budget, new Money('500.01'), new Money('900'), 'usd')).toMatchObject({
      spent_percent: '100.00',
      exceeded: true,
      forecast_exceeds: true,
      monthly_limit: { amount: '500.00', currency: 'usd' },
    });
  });

  it('a zero limit is exceeded by any spend', () => {
    const zero = { monthly_limit: '0.00', thresholds: [100], enforce: false };
    expect(budgetStatus(zero, new Money('0'), new Money('0'), 'usd')).toMatchObject({
      exceeded: false,
      spent_percent: '0.00',
    });
    expect(budgetStatus(zero, new Money('0.01'), new Money('1'), 'usd')).toMatchObject({
      exceeded: true,
      thresholds_reached: [100],
    });
  });
});
