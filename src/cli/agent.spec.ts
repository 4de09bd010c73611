import { agentTransport, parseDuration } from './agent';

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

describe('agentTransport', () => {
  it('defaults to HTTP when a URL is given, to Kafka otherwise, and refuses anything else', () => {
    expect(agentTransport(undefined, undefined)).toEqual({ via: 'kafka', url: 'http://127.0.0.1:3000' });
    expect(agentTransport(undefined, 'https://meter.example')).toEqual({
      via: 'http',
      url: 'https://meter.example',
    });
    expect(agentTransport('kafka', 'https://meter.example')).toEqual({
      via: 'kafka',
      url: 'https://meter.example',
    });
    expect(() => agentTransport('carrier-pigeon', undefined)).toThrow('--via must be kafka or http');
  });
});
