import { failingSince } from './webhook-dispatcher.service';

describe('failingSince: when an endpoint began failing without a break', () => {
  const a = (at: number, outcome: string) => ({ attempted_at_ms: at, outcome });
  it('is the first failure after the last success', () => {
    expect(failingSince([])).toBeNull();
    expect(failingSince([a(1, 'failed'), a(2, 'succeeded')])).toBeNull();
    expect(failingSince([a(5, 'failed'), a(1, 'failed'), a(2, 'succeeded'), a(7, 'gave_up')])).toBe(5);
    expect(failingSince([a(1, 'failed'), a(3, 'failed')])).toBe(1);
  });
});
