import { parseDuration } from './agent';

describe('parseDuration', () => {
  it('reads the forms the agent options take', () => {
    expect(parseDuration('60s')).toBe(60_000);
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('1500ms')).toBe(1500);
    expect(parseDuration('10')).toBe(10_000);
    expect(() => parseDuration('ten seconds')).toThrow(/not a duration/);
  });
});
