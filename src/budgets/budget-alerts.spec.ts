import { Money } from '../catalog/money';
import { alertsDue } from './budget-alerts';

const base = {
  workspaceId: 'ws_a',
  period: '2026-12',
  budget: { monthly_limit: '100.00', thresholds: [50, 80, 100], enforce: true },
  currency: 'usd',
  decided: new Set<string>(),
};
const ids = (spend: string, forecast = '0', decided = new Set<string>()) =>
  alertsDue({ ...base, spend: new Money(spend), forecast: new Money(forecast), decided }).map((a) => a.id);

describe('budget alerts: decided exactly, once', () => {
  it('reaches each threshold at the cent, not before', () => {
    expect(ids('49.99')).toEqual([]);
    expect(ids('50.00')).toEqual(['alert:ws_a:2026-12:100.00:50']);
    expect(ids('99.99')).toEqual(['alert:ws_a:2026-12:100.00:50', 'alert:ws_a:2026-12:100.00:80']);
  });

  it('the cap at the limit, exceeded above it, the forecast on its own', () => {
    expect(ids('100.00')).toEqual([
      'alert:ws_a:2026-12:100.00:50',
      'alert:ws_a:2026-12:100.00:80',
      'alert:ws_a:2026-12:100.00:100',
      'alert:ws_a:2026-12:100.00:cap',
    ]);
    expect(ids('100.01')).toContain('alert:ws_a:2026-12:100.00:exceeded');
    expect(ids('10.00', '100.01')).toEqual(['alert:ws_a:2026-12:100.00:forecast']);
  });

  it('nothing twice: what was decided is not decided again; a new limit is a new budget', () => {
    const decided = new Set(ids('80.00'));
    expect(ids('85.00', '0', decided)).toEqual([]);
    expect(
      alertsDue({
        ...base,
        budget: { ...base.budget, monthly_limit: '200.00' },
        spend: new Money('100'),
        forecast: new Money(0),
        decided,
      }).map((a) => a.id),
    ).toEqual(['alert:ws_a:2026-12:200.00:50']);
  });

  it('no cap alert for a budget that is not enforced', () => {
    expect(
      alertsDue({
        ...base,
        budget: { ...base.budget, enforce: false },
        spend: new Money(150),
        forecast: new Money(0),
      }).map((a) => a.type),
    ).not.toContain('budget.cap_reached');
  });
});
