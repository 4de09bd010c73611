import { IntervalAccountant } from './interval-accountant';
import { SimulatedUsageSource } from './simulated-source';

const T0 = Date.UTC(2026, 10, 27, 10, 0, 0);

function run(
  source: SimulatedUsageSource,
  from: number,
  to: number,
  tickMs: number,
  accountant: IntervalAccountant,
) {
  const events = [];
  let since = from - 1;
  for (let now = from; now <= to; now += tickMs) {
    events.push(...accountant.observe(source.read(since, now), now));
    since = now;
  }
  return events;
}
const billed = (events: ReturnType<IntervalAccountant['observe']>) => {
  const out = new Map<string, bigint>();
  for (const e of events) {
    const ms = BigInt(e.data.gpu_count) * BigInt(Date.parse(e.data.ended_at) - Date.parse(e.data.started_at));
    out.set(e.subject, (out.get(e.subject) ?? 0n) + ms);
  }
  return out;
};
const perWorkspace = (truth: Map<string, Map<string, bigint>>) =>
  new Map([...truth].map(([ws, types]) => [ws, [...types.values()].reduce((a, b) => a + b, 0n)]));

describe('simulated workload through the accountant', () => {
  it('is the same world for the same seed', () => {
    const opts = { seed: 3, workspaces: 4, containers: 10, startMs: T0, endMs: T0 + 3_600_000 };
    expect(new SimulatedUsageSource(opts).containers).toEqual(new SimulatedUsageSource(opts).containers);
  });

  it('bills exactly what the simulation ran: 50 containers, 2 simulated hours, 1 s ticks', () => {
    const source = new SimulatedUsageSource({
      seed: 7,
      workspaces: 5,
      containers: 50,
      startMs: T0,
      endMs: T0 + 7_200_000,
    });
    const accountant = new IntervalAccountant('agent://sim', 10_000);
    const end = T0 + 7_200_000;
    const events = [...run(source, T0, end, 1_000, accountant), ...accountant.closeAll(end)];
    expect(billed(events)).toEqual(perWorkspace(source.truth(T0, end)));
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  });

  it('a restart from a checkpoint (containers starting and stopping meanwhile) still bills exactly', () => {
    const source = new SimulatedUsageSource({
      seed: 8,
      workspaces: 3,
      containers: 20,
      startMs: T0,
      endMs: T0 + 3_600_000,
    });
    const first = new IntervalAccountant('agent://sim', 10_000);
    const crashAt = T0 + 1_234_000;
    const before = run(source, T0, crashAt, 1_000, first);
    // Down for 10 minutes; the new agent resumes from the checkpoint of the old one.
    const second = new IntervalAccountant('agent://sim', 10_000, first.checkpoint());
    const end = T0 + 3_600_000;
    const after = [...second.observe(source.read(crashAt, crashAt + 600_000), crashAt + 600_000)];
    after.push(...run(source, crashAt + 601_000, end, 1_000, second), ...second.closeAll(end));
    const all = [...before, ...after];
    expect(billed(all)).toEqual(perWorkspace(source.truth(T0, end)));
    expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
  });
});
