import fc from 'fast-check';
import { packUsageRecords } from './usage-records';

const event = (source: string, subject: string, id: string, pad = 0) => ({
  source,
  subject,
  json: JSON.stringify({ id, source, subject, pad: 'x'.repeat(pad) }),
});

describe('usage.events.v1 records: events of one source, keyed by the source', () => {
  it('groups by source in first-seen order, whatever the workspaces, keyed by the source', () => {
    const events = [
      event('agent://a', 'ws1', '1'),
      event('agent://b', 'ws1', '2'),
      event('agent://a', 'ws2', '3'),
      event('agent://a', 'ws1', '4'),
    ];
    const { records, tooLarge } = packUsageRecords(events);
    expect(tooLarge).toEqual([]);
    expect(records.map((r) => [r.key, r.indexes])).toEqual([
      ['agent://a', [0, 2, 3]],
      ['agent://b', [1]],
    ]);
    expect(JSON.parse(records[0].value)).toEqual([0, 2, 3].map((i) => JSON.parse(events[i].json)));
  });

  it('keeps every record under its byte and event limits, refuses an event that cannot fit, loses none', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            s: fc.integer({ min: 0, max: 2 }),
            w: fc.integer({ min: 0, max: 2 }),
            pad: fc.nat(400),
          }),
          { maxLength: 200 },
        ),
        fc.integer({ min: 100, max: 2000 }),
        fc.integer({ min: 1, max: 20 }),
        (specs, maxBytes, maxEvents) => {
          const events = specs.map((x, i) => event(`agent://${x.s}`, `ws${x.w}`, String(i), x.pad));
          const { records, tooLarge } = packUsageRecords(events, maxBytes, maxEvents);
          for (const r of records) {
            expect(Buffer.byteLength(r.value)).toBeLessThanOrEqual(maxBytes);
            expect(r.indexes.length).toBeLessThanOrEqual(maxEvents);
            const parsed = JSON.parse(r.value) as Array<{ source: string; subject: string }>;
            expect(parsed.length).toBe(r.indexes.length);
            expect(new Set(parsed.map((p) => p.source)).size).toBe(1);
            expect(parsed[0].source).toBe(r.key);
          }
          for (const i of tooLarge) expect(Buffer.byteLength(events[i].json) + 2).toBeGreaterThan(maxBytes);
          const packed = records.flatMap((r) => r.indexes);
          expect([...packed, ...tooLarge].sort((a, b) => a - b)).toEqual(events.map((_, i) => i));
          // Within a group, the events keep their order.
          for (const r of records) expect([...r.indexes].sort((a, b) => a - b)).toEqual(r.indexes);
        },
      ),
      { numRuns: 300 },
    );
  });
});
