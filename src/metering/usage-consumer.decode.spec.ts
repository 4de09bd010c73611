import fc from 'fast-check';
import { KafkaMessage } from 'kafkajs';
import { hostileUsageRecord } from '../../test/support/hostile-records';
import { loadConfig } from '../app-config';
import { sampleUsageEvent } from '../ingestion/usage-event/usage-event.fixtures';
import { DAY_MS } from '../common/time';
import { setAsideRetired, UsageRecordDecoder } from './usage-record-decoder';

/** The event window the service runs with by default (EVENT_MAX_FUTURE_SECONDS, EVENT_MAX_AGE_DAYS). */
const windowOf = (config = loadConfig({ GPUMETER_ENV: 'test' })) => ({
  maxFutureMs: config.EVENT_MAX_FUTURE_SECONDS * 1000,
  maxAgeMs: config.EVENT_MAX_AGE_DAYS * DAY_MS,
});
/** Decoding is pure: no Kafka, no ClickHouse. */
const NOW = Date.UTC(2026, 10, 27, 10, 0, 10);
const decoder = new UsageRecordDecoder(windowOf());
const consumer = { decode: (m: KafkaMessage[], p: number, now = NOW) => decoder.decode(m, p, now) };
const message = (value: Buffer | null, offset = 0): KafkaMessage => ({
  key: null,
  value,
  offset: String(offset),
  timestamp: String(NOW),
  headers: {},
  attributes: 0,
});

describe('usage consumer decode: no record can make it throw (issue 8)', () => {
  it('dead-letters every hostile record with a reason, and still decodes the good event behind it', () => {
    const good = Buffer.from(JSON.stringify(sampleUsageEvent(NOW - 5000)));
    fc.assert(
      fc.property(fc.array(hostileUsageRecord(NOW - 5000), { minLength: 1, maxLength: 5 }), (records) => {
        const messages = [...records.map((r, i) => message(r.value, i)), message(good, records.length)];
        const { events, deadLetters } = consumer.decode(messages, 0);
        // Every hostile record is dead-lettered (a batch record event by event), none stored.
        expect([...new Set(deadLetters.map((d) => d.message.offset))]).toEqual(
          records.map((_, i) => String(i)),
        );
        for (const d of deadLetters) {
          expect(['invalid-json', 'invalid-event', 'unprocessable']).toContain(d.reason);
          expect(d.detail.length).toBeGreaterThan(0);
        }
        expect(events.map((e) => e.kafka_offset)).toEqual([records.length]);
      }),
      { numRuns: 1500 },
    );
  });

  it('the reported records: {"id":{"constructor":{"prototype":{}}}} and 5,000 levels of an invalid event', () => {
    const deep = `{"id":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    const { deadLetters } = consumer.decode(
      [
        message(Buffer.from('{"id":{"constructor":{"prototype":{}}}}')),
        message(Buffer.from(deep), 1),
        message(null, 2),
      ],
      0,
    );
    expect(deadLetters.map((d) => d.reason)).toEqual(['invalid-event', 'invalid-json', 'invalid-json']);
    expect(deadLetters[1].detail).toMatch(/nested deeper than 32/);
  });

  it('refuses an event whose id holds a lone surrogate (it would be stored as U+FFFD and never match again)', () => {
    const text = JSON.stringify(sampleUsageEvent(NOW - 5000, { id: '@@' })).replace(
      '"@@"',
      '"surr-\\ud800-end"',
    );
    const { events, deadLetters } = consumer.decode([message(Buffer.from(text))], 0);
    expect(events).toHaveLength(0);
    expect(deadLetters[0]).toMatchObject({ reason: 'invalid-event' });
    expect(deadLetters[0].detail).toMatch(/^id must be well-formed Unicode/);
  });

  it('takes a batch record event by event: the valid ones stored, each invalid one dead-lettered alone with its index', () => {
    const a = sampleUsageEvent(NOW - 5000, { id: 'a' });
    const bad = { ...sampleUsageEvent(NOW - 5000, { id: 'b' }), type: 'gpu.other.v1' };
    const c = sampleUsageEvent(NOW - 5000, { id: 'c' });
    const { events, deadLetters } = consumer.decode(
      [message(Buffer.from(JSON.stringify([a, bad, c])), 7)],
      0,
    );
    expect(events.map((e) => [e.id, e.kafka_offset])).toEqual([
      ['a', 7],
      ['c', 7],
    ]);
    expect(deadLetters).toHaveLength(1);
    expect(deadLetters[0]).toMatchObject({ index: 1, reason: 'invalid-event' });
    expect(JSON.parse(deadLetters[0].message.value!.toString())).toEqual(bad);
    expect(deadLetters[0].message.offset).toBe('7');
    const empty = consumer.decode([message(Buffer.from('[]'), 8)], 0);
    expect(empty.deadLetters.map((d) => [d.reason, d.detail, d.index])).toEqual([
      ['invalid-event', 'an empty batch', undefined],
    ]);
  });

  it('sets aside an event read outside its source’s partition, to be produced again keyed by its source', () => {
    // Two partitions: agent://even → 0, anything else → 1.
    const routed = new UsageRecordDecoder(windowOf(), (s) => (s === 'agent://even' ? 0 : 1));
    const here = sampleUsageEvent(NOW - 5000, { id: 'here', source: 'agent://even' });
    const there = sampleUsageEvent(NOW - 5000, { id: 'there', source: 'agent://odd' });
    const { events, misrouted, deadLetters } = routed.decode(
      [message(Buffer.from(JSON.stringify([here, there])), 3)],
      0,
      NOW,
    );
    expect(deadLetters).toEqual([]);
    expect(events.map((e) => e.id)).toEqual(['here']);
    expect(misrouted.map((m) => [m.source, JSON.parse(m.json).id, m.message.offset])).toEqual([
      ['agent://odd', 'there', '3'],
    ]);
  });
});

describe('usage consumer: events of retired months (raw event retention)', () => {
  it('dead-letters an event whose month is retired, alone, and stores the rest', () => {
    const withRetirements = new UsageRecordDecoder(
      windowOf(loadConfig({ GPUMETER_ENV: 'test', EVENT_MAX_AGE_DAYS: '400' })),
    );
    const august = sampleUsageEvent(Date.UTC(2026, 7, 20, 3), { id: 'august' });
    const september = sampleUsageEvent(Date.UTC(2026, 8, 2, 3), { id: 'september' });
    const today = sampleUsageEvent(NOW - 5000, { id: 'today' });
    const slice = withRetirements.decode(
      [message(Buffer.from(JSON.stringify([august, september, today])), 7)],
      0,
      NOW,
    );
    expect(slice.events.map((e) => e.id)).toEqual(['august', 'september', 'today']);
    expect(slice.aged.map((a) => a.event.id)).toEqual(['august', 'september']);
    setAsideRetired(slice, new Set([202608]));
    expect(slice.events.map((e) => e.id)).toEqual(['september', 'today']);
    expect(slice.deadLetters).toHaveLength(1);
    const [dead] = slice.deadLetters;
    expect([dead.reason, dead.index, dead.message.offset]).toEqual(['retired-period', 0, '7']);
    expect(dead.detail).toMatch(/2026-08.*raw events were dropped/);
    expect(JSON.parse(dead.message.value!.toString())).toEqual(august);
  });

  it('asks nothing about events of this month (live traffic)', () => {
    const { aged, events } = consumer.decode(
      [message(Buffer.from(JSON.stringify(sampleUsageEvent(NOW - 5000))))],
      0,
      NOW,
    );
    expect(events).toHaveLength(1);
    expect(aged).toEqual([]);
  });
});
