import { parseClockOffset } from '../common/time';
import { Clock } from './clock';

describe('Clock', () => {
  it('runs at the offset it is given from the machine', () => {
    jest.useFakeTimers({ now: Date.UTC(2026, 11, 31, 23, 59, 50) });
    try {
      const fiveDaysOn = new Clock(parseClockOffset('+5d'));
      expect(fiveDaysOn.date().toISOString()).toBe('2027-01-05T23:59:50.000Z');
      expect(new Clock().now()).toBe(Date.UTC(2026, 11, 31, 23, 59, 50));
      jest.advanceTimersByTime(10_000); // the month turns for every clock as time passes
      expect(new Clock(parseClockOffset('-36h')).date().toISOString()).toBe('2026-12-30T12:00:00.000Z');
    } finally {
      jest.useRealTimers();
    }
  });

  it('reads offsets as a signed whole number of a unit, and nothing else', () => {
    expect(['', '0', '90s', '+5d', '-36h', '250ms', '15m'].map(parseClockOffset)).toEqual([
      0, 0, 90_000, 432_000_000, -129_600_000, 250, 900_000,
    ]);
    for (const bad of ['5', '5 days', '1.5h', 'h', '+-1d', '99999999999999d'])
      expect([bad, parseClockOffset(bad)]).toEqual([bad, undefined]);
  });
});
