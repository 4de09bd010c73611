import { fastCheckUsageEvent } from './usage-event.fast-check';
import { sampleUsageEvent } from './usage-event.fixtures';
import { schemaErrors } from './usage-event.validator';

/**
 * The fast path must fail exactly the fields the declared schema (class-validator) fails.
 * Seeded random mutations of a valid event, over values chosen to sit on every edge.
 */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s / 2 ** 32;
  };
}
const EDGE_VALUES: unknown[] = [
  undefined,
  null,
  '',
  'x',
  'a'.repeat(64),
  'a'.repeat(65),
  'x'.repeat(128),
  'x'.repeat(129),
  'x'.repeat(256),
  'x'.repeat(257),
  '😀'.repeat(128),
  '😀'.repeat(129),
  0,
  1,
  -1,
  1.5,
  64,
  65,
  2_147_483_647,
  2_147_483_648,
  NaN,
  Infinity,
  '8',
  true,
  [],
  {},
  [1],
  '1.0',
  '1',
  'gpu.usage.v1',
  'ws_acme',
  'WS',
  '_a',
  'a-b_c',
  'H100',
  'h100',
  'T4',
  'B200',
  '2026-11-27T10:00:05.123Z',
  '2026-11-27T10:00:05Z',
  '2026-11-27T10:00:05.1234Z',
  '2026-11-27t10:00:05.123z',
  '2026-11-27T10:00:05.123+05:30',
  '2026-13-01T00:00:00.000Z',
  '2026-02-29T00:00:00.000Z',
  '2024-02-29T00:00:00.000Z',
  '2026-11-27T24:00:00.000Z',
  '2026-11-27 10:00:05.123Z',
  '0099-01-01T00:00:00.000Z',
  "'); DROP TABLE usage_events; --",
  'a\\b',
  // Lone surrogates: valid JSON, not Unicode (issue 8); a pair is fine.
  'surr-\ud800-end',
  '\udc00',
  'x'.repeat(127) + '\ud83d',
  '\ud83d\ude00',
];
const TOP = ['specversion', 'id', 'source', 'type', 'subject', 'time', 'datacontenttype', 'data'];
const DATA = [
  'container_id',
  'app_id',
  'function_id',
  'gpu_type',
  'gpu_count',
  'started_at',
  'ended_at',
  'cpu_millicores',
  'memory_mib',
  'region',
  'provider',
];

describe('fast check ≡ declared schema', () => {
  it('fails the same fields on 20,000 seeded mutations', () => {
    const r = rng(42);
    const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)];
    let rejected = 0;
    for (let i = 0; i < 20_000; i++) {
      const e = sampleUsageEvent(Date.UTC(2026, 10, 27, 10, 0, 5, 123));
      const mutations = 1 + Math.floor(r() * 3);
      for (let m = 0; m < mutations; m++) {
        const value = pick(EDGE_VALUES);
        if (r() < 0.3) e[pick(TOP)] = value;
        else if (e.data && typeof e.data === 'object' && !Array.isArray(e.data)) e.data[pick(DATA)] = value;
      }
      const fast = [...new Set(fastCheckUsageEvent(e).failedFields)].sort();
      const schema = [...new Set(schemaErrors(e).map((x) => x.field))].sort();
      if (fast.length > 0) rejected++;
      expect({ event: e, fields: fast }).toEqual({ event: e, fields: schema });
    }
    // The mutations must exercise both outcomes for the comparison to mean anything.
    expect(rejected).toBeGreaterThan(5_000);
    expect(rejected).toBeLessThan(20_000);
  });
});
