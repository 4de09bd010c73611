import { validateUsageEvent } from '../ingestion/usage-event/usage-event.validator';
import { AgentClock, ClockSource } from './clock';
import { IntervalAccountant } from './interval-accountant';
import { ContainerObservation } from './usage-source';

const T0 = Date.UTC(2026, 10, 27, 10, 0, 0);
const box = (id: string, extra: Partial<ContainerObservation> = {}): ContainerObservation => ({
  container_id: id,
  workspace_id: 'ws_acme',
  app_id: 'app',
  gpu_type: 'H100',
  gpu_count: 2,
  ...extra,
});
const span = (e: { data: { started_at: string; ended_at: string } }) => [
  Date.parse(e.data.started_at),
  Date.parse(e.data.ended_at),
];

describe('IntervalAccountant', () => {
  it('tiles a container’s time exactly in 10 s intervals plus a final partial one', () => {
    const a = new IntervalAccountant('agent://h1', 10_000);
    const events = [
      ...a.observe({ running: [box('c1', { started_at_ms: T0 })], stopped: [] }, T0 + 3_500),
      ...a.observe({ running: [box('c1')], stopped: [] }, T0 + 27_123),
      ...a.observe(
        { running: [], stopped: [{ container_id: 'c1', stopped_at_ms: T0 + 31_007 }] },
        T0 + 32_000,
      ),
    ];
    expect(events.map(span)).toEqual([
      [T0, T0 + 10_000],
      [T0 + 10_000, T0 + 20_000],
      [T0 + 20_000, T0 + 30_000],
      [T0 + 30_000, T0 + 31_007],
    ]);
    expect(events.map((e) => e.id)).toEqual([
      `c1:${T0}`,
      `c1:${T0 + 10_000}`,
      `c1:${T0 + 20_000}`,
      `c1:${T0 + 30_000}`,
    ]);
    for (const e of events)
      expect(validateUsageEvent(e, T0 + 40_000, { maxFutureMs: 300_000, maxAgeMs: 86_400_000 }).ok).toBe(
        true,
      );
  });

  it('closes every container at shutdown and splits on a GPU count change', () => {
    const a = new IntervalAccountant('agent://h1', 10_000);
    a.observe({ running: [box('c1', { started_at_ms: T0 })], stopped: [] }, T0 + 1_000);
    const change = a.observe({ running: [box('c1', { gpu_count: 4 })], stopped: [] }, T0 + 4_000);
    expect(change.map(span)).toEqual([[T0, T0 + 4_000]]);
    const last = a.closeAll(T0 + 9_000);
    expect(last.map(span)).toEqual([[T0 + 4_000, T0 + 9_000]]);
    expect(last[0].data.gpu_count).toBe(4);
  });

  it('a restarted agent resumes from its checkpoint: same ids, no gap, no overlap', () => {
    const first = new IntervalAccountant('agent://h1', 10_000);
    const before = first.observe({ running: [box('c1', { started_at_ms: T0 })], stopped: [] }, T0 + 25_000);
    const checkpoint = first.checkpoint();
    expect(checkpoint.get('c1')).toBe(T0 + 20_000);
    const second = new IntervalAccountant('agent://h1', 10_000, checkpoint);
    const after = second.observe({ running: [box('c1', { started_at_ms: T0 })], stopped: [] }, T0 + 41_000);
    expect([...before, ...after].map(span)).toEqual([
      [T0, T0 + 10_000],
      [T0 + 10_000, T0 + 20_000],
      [T0 + 20_000, T0 + 30_000],
      [T0 + 30_000, T0 + 40_000],
    ]);
  });

  it('a wall-clock jump of ±1 h during a run changes no billed millisecond', () => {
    let mono = 0;
    let wall = T0;
    const source: ClockSource = { monotonicMs: () => mono, wallMs: () => wall };
    const clock = new AgentClock(source);
    const a = new IntervalAccountant('agent://h1', 10_000);
    const events = [...a.observe({ running: [box('c1')], stopped: [] }, clock.nowMs())];
    for (let s = 1; s <= 120; s++) {
      mono += 1_000;
      wall += 1_000;
      if (s === 30) wall += 3_600_000; // NTP steps the clock forward an hour
      if (s === 70) wall -= 7_200_000; // and back two
      events.push(...a.observe({ running: [box('c1')], stopped: [] }, clock.nowMs()));
    }
    events.push(...a.closeAll(clock.nowMs()));
    const billed = events.reduce((sum, e) => sum + e.data.gpu_count * (span(e)[1] - span(e)[0]), 0);
    expect(billed).toBe(2 * 120_000);
    expect(clock.wallSkewMs()).toBe(-3_600_000);
    for (let i = 1; i < events.length; i++) expect(span(events[i])[0]).toBe(span(events[i - 1])[1]);
  });
});
