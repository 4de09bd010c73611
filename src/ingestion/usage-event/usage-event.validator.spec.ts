import { sampleUsageEvent } from './usage-event.fixtures';
import { validateUsageEvent } from './usage-event.validator';

const NOW = Date.UTC(2026, 10, 27, 10, 0, 10);
const WINDOW = { maxFutureMs: 300_000, maxAgeMs: 35 * 86_400_000 };
const check = (overrides: Record<string, unknown>, base = sampleUsageEvent(NOW - 5000)) => {
  const e = JSON.parse(JSON.stringify(base));
  for (const [path, value] of Object.entries(overrides)) {
    const parts = path.split('.');
    const target = parts.length === 2 ? e[parts[0]] : e;
    if (value === undefined) delete target[parts[parts.length - 1]];
    else target[parts[parts.length - 1]] = value;
  }
  return validateUsageEvent(e, NOW, WINDOW);
};
const fieldsOf = (v: ReturnType<typeof check>) => (v.ok ? [] : [...new Set(v.errors.map((e) => e.field))]);

describe('validateUsageEvent: every rule of contract §1', () => {
  it('accepts the contract example and computes integer times', () => {
    const v = check({});
    expect(v.ok).toBe(true);
    if (v.ok) {
      expect(v.record.ended_at_ms - v.record.started_at_ms).toBe(5123);
      expect(v.record.workspace_id).toBe('ws_acme');
    }
  });

  it('accepts events without the optional fields, and null optional fields', () => {
    const v = check({
      'data.function_id': undefined,
      'data.region': null,
      'data.cpu_millicores': undefined,
      datacontenttype: undefined,
    });
    expect(v.ok).toBe(true);
    if (v.ok) expect([v.record.function_id, v.record.region, v.record.cpu_millicores]).toEqual(['', '', 0]);
  });

  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['specversion other than 1.0', { specversion: '0.3' }, 'specversion'],
    ['missing id', { id: undefined }, 'id'],
    ['empty id', { id: '' }, 'id'],
    ['id over 128 chars', { id: 'x'.repeat(129) }, 'id'],
    ['source over 256 chars', { source: 's'.repeat(257) }, 'source'],
    ['empty source', { source: '' }, 'source'],
    ['another event type', { type: 'gpu.usage.v2' }, 'type'],
    ['subject with capitals', { subject: 'WS_acme' }, 'subject'],
    ['subject starting with _', { subject: '_acme' }, 'subject'],
    ['subject over 64 chars', { subject: 'a'.repeat(65) }, 'subject'],
    ['time not RFC 3339', { time: '27/11/2026 10:00' }, 'time'],
    ['time not equal to ended_at', { time: new Date(NOW - 4000).toISOString() }, 'time'],
    ['missing container_id', { 'data.container_id': undefined }, 'data.container_id'],
    ['container_id over 128', { 'data.container_id': 'c'.repeat(129) }, 'data.container_id'],
    ['missing app_id', { 'data.app_id': undefined }, 'data.app_id'],
    ['function_id over 128', { 'data.function_id': 'f'.repeat(129) }, 'data.function_id'],
    ['function_id a number', { 'data.function_id': 7 }, 'data.function_id'],
    ['region over 128', { 'data.region': 'r'.repeat(129) }, 'data.region'],
    ['provider over 128', { 'data.provider': 'p'.repeat(129) }, 'data.provider'],
    ['unknown gpu_type', { 'data.gpu_type': 'RTX4090' }, 'data.gpu_type'],
    ['gpu_count 0', { 'data.gpu_count': 0 }, 'data.gpu_count'],
    ['gpu_count 65', { 'data.gpu_count': 65 }, 'data.gpu_count'],
    ['gpu_count fractional', { 'data.gpu_count': 1.5 }, 'data.gpu_count'],
    ['gpu_count as a string', { 'data.gpu_count': '8' }, 'data.gpu_count'],
    ['started_at without milliseconds', { 'data.started_at': '2026-11-27T10:00:00Z' }, 'data.started_at'],
    ['ended_at an impossible date', { 'data.ended_at': '2026-02-30T10:00:05.123Z' }, 'data.ended_at'],
    ['cpu_millicores negative', { 'data.cpu_millicores': -1 }, 'data.cpu_millicores'],
    ['memory_mib fractional', { 'data.memory_mib': 0.5 }, 'data.memory_mib'],
    ['data missing', { data: undefined }, 'data'],
    ['data an array', { data: [] }, 'data'],
  ];
  it.each(cases)('rejects %s naming %s', (_name, overrides, field) => {
    const v = check(overrides);
    expect(v.ok).toBe(false);
    expect(fieldsOf(v)).toContain(field);
    if (!v.ok) for (const e of v.errors) expect(e.message).toContain(e.field);
  });

  const base = (startedMs: number, endedMs: number) =>
    sampleUsageEvent(endedMs, {
      'data.started_at': new Date(startedMs).toISOString(),
      'data.ended_at': new Date(endedMs).toISOString(),
      time: new Date(endedMs).toISOString(),
    });
  it('rejects ended_at not after started_at', () => {
    expect(fieldsOf(validateUsageEvent(base(NOW - 1000, NOW - 1000), NOW, WINDOW))).toEqual([
      'data.ended_at',
    ]);
  });
  it('rejects an interval over 3600 s and accepts exactly 3600 s', () => {
    expect(fieldsOf(validateUsageEvent(base(NOW - 3_600_001, NOW), NOW, WINDOW))).toEqual(['data.ended_at']);
    expect(validateUsageEvent(base(NOW - 3_600_000, NOW), NOW, WINDOW).ok).toBe(true);
  });
  it('rejects ended_at more than 5 min after ingestion, accepts exactly 5 min', () => {
    expect(fieldsOf(validateUsageEvent(base(NOW, NOW + 300_001), NOW, WINDOW))).toEqual(['data.ended_at']);
    expect(validateUsageEvent(base(NOW, NOW + 300_000), NOW, WINDOW).ok).toBe(true);
  });
  it('rejects ended_at more than 35 days before ingestion (configurable)', () => {
    const old = NOW - 35 * 86_400_000 - 1;
    expect(fieldsOf(validateUsageEvent(base(old - 1000, old), NOW, WINDOW))).toEqual(['data.ended_at']);
    expect(validateUsageEvent(base(old - 1000, old), NOW, { ...WINDOW, maxAgeMs: 36 * 86_400_000 }).ok).toBe(
      true,
    );
  });
  it('reads time zones offsets exactly', () => {
    const v = check(
      { time: '2026-11-27T11:00:05.000+01:00' },
      base(Date.UTC(2026, 10, 27, 10, 0, 0), Date.UTC(2026, 10, 27, 10, 0, 5)),
    );
    expect(v.ok).toBe(true);
  });
  it('rejects a non-object event', () => {
    expect(fieldsOf(validateUsageEvent('hello', NOW, WINDOW))).toEqual(['(event)']);
    expect(fieldsOf(validateUsageEvent([1], NOW, WINDOW))).toEqual(['(event)']);
  });
});

describe('validateUsageEvent: hostile JSON (issue 8)', () => {
  const STRING_FIELDS = [
    'id',
    'source',
    'datacontenttype',
    'data.container_id',
    'data.app_id',
    'data.function_id',
    'data.region',
    'data.provider',
  ];
  it.each(STRING_FIELDS)('refuses a lone surrogate in %s, naming the field', (field) => {
    const v = check({ [field]: 'surr-\ud800-end' });
    expect(v.ok).toBe(false);
    expect(fieldsOf(v)).toEqual([field]);
  });

  it('accepts a surrogate pair (one astral character)', () => {
    expect(check({ id: 'emoji-\ud83d\ude00', 'data.app_id': '😀' }).ok).toBe(true);
  });

  it('refuses lone surrogates, prototype keys and deep nesting in extension attributes too', () => {
    expect(fieldsOf(check({ myext: 'a\udfffb' }))).toEqual(['myext']);
    expect(fieldsOf(check({ 'data.note': ['ok', { deep: '\ud800' }] }))).toEqual(['data.note[1].deep']);
    let deep: unknown = 1;
    for (let i = 0; i < 10_000; i++) deep = [deep];
    expect(check({ 'data.nested': deep }).ok).toBe(false);
    for (const key of ['__proto__', 'constructor', 'prototype']) {
      const e = JSON.parse(`{"${key}": {"x": 1}}`) as Record<string, unknown>;
      const v = validateUsageEvent({ ...sampleUsageEvent(NOW - 5000), ...e }, NOW, WINDOW);
      expect(fieldsOf(v)).toEqual([key]);
    }
  });

  it('never throws on values that break class-transformer (the consumer-stopping record)', () => {
    const raw = JSON.parse('{"id":{"constructor":{"prototype":{}}}}') as unknown;
    expect(() => validateUsageEvent(raw, NOW, WINDOW)).not.toThrow();
    expect(validateUsageEvent(raw, NOW, WINDOW).ok).toBe(false);
  });
});
