import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageCloudEvent } from '../ingestion/usage-event/usage-event';
import { AgentClock, ClockSource } from './clock';
import { EventSender } from './event-sender';
import { attribute, NvidiaSmiUsageSource, refuseLabel } from './nvidia-smi-source';
import { keepRefused, WorkerAgent } from './worker-agent';

/**
 * The label contract (issue 10, finding 9), on the real agent: real label files, the real
 * nvidia-smi source (its output faked), the real accountant and spool, a clock the test moves.
 */
const GPUS = 64;
const uuid = (i: number) => `GPU-00000000-0000-0000-0000-${String(i).padStart(12, '0')}`;
const NVIDIA_SMI = Array.from(
  { length: GPUS },
  (_, i) => `${i}, ${uuid(i)}, NVIDIA H100 80GB HBM3, 81559, 90`,
).join('\n');

class FakeTime implements ClockSource {
  mono = 0;
  constructor(readonly wallAtStart: number) {}
  monotonicMs = () => this.mono;
  wallMs = () => this.wallAtStart + this.mono;
}

/** What reached the receiver, once per event id (as the consumer's dedupe would keep it). */
class CapturingSender implements EventSender {
  readonly byId = new Map<string, UsageCloudEvent>();
  async send(payloads: string[]): Promise<number[]> {
    for (const p of payloads) {
      const e = JSON.parse(p) as UsageCloudEvent;
      if (!this.byId.has(`${e.source}|${e.id}`)) this.byId.set(`${e.source}|${e.id}`, e);
    }
    return [];
  }
  async close(): Promise<void> {}
  gpuMs(): bigint {
    let total = 0n;
    for (const e of this.byId.values())
      total += BigInt(e.data.gpu_count) * BigInt(Date.parse(e.data.ended_at) - Date.parse(e.data.started_at));
    return total;
  }
}

function seeded(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s / 2 ** 32;
  };
}

interface Container {
  id: string;
  gpu: number;
  gpus: number;
  start: number;
  stop: number;
}

/** 1,000 containers, 50 ms – 3 s each, at random phases against a 1 s tick, never sharing a GPU. */
function workload(t0: number): Container[] {
  const r = seeded(20261201);
  const freeAt = new Array<number>(GPUS).fill(t0);
  const out: Container[] = [];
  for (let i = 0; i < 1000; i++) {
    const gpus = r() < 0.8 ? 1 : 2;
    let slot = 0;
    for (let g = 0; g < GPUS - 1; g += gpus)
      if (Math.max(freeAt[g], freeAt[g + gpus - 1]) < Math.max(freeAt[slot], freeAt[slot + gpus - 1]))
        slot = g;
    const start = Math.max(freeAt[slot], freeAt[slot + gpus - 1]) + Math.floor(r() * 1500);
    const stop = start + 50 + Math.floor(r() * 2950);
    for (let g = slot; g < slot + gpus; g++) freeAt[g] = stop + 1;
    out.push({ id: `ct_${i}`, gpu: slot, gpus, start, stop });
  }
  return out;
}

async function run(contract: 'stopped_at' | 'delete-only') {
  const t0 = Date.UTC(2026, 11, 1, 12, 0, 0, 0);
  const containers = workload(t0);
  const labels = mkdtempSync(join(tmpdir(), 'labels-'));
  const spool = mkdtempSync(join(tmpdir(), 'spool-'));
  const time = new FakeTime(t0);
  const source = new NvidiaSmiUsageSource(
    labels,
    () => undefined,
    async () => NVIDIA_SMI,
  );
  const sender = new CapturingSender();
  const agent = new WorkerAgent(
    {
      source: 'agent://label-test',
      intervalMs: 10_000,
      spoolDir: spool,
      spoolMaxBytes: 64 * 1024 * 1024,
      tickMs: 1000,
      sendBatch: 500,
      log: () => undefined,
    },
    source,
    sender,
    new AgentClock(time, 1, t0),
  );
  await agent.start();
  // The runtime's side, in time order: a label at start, stopped_at (or deletion) at stop.
  const changes = containers
    .flatMap((c) => [
      { at: c.start, c, kind: 'start' as const },
      { at: c.stop, c, kind: 'stop' as const },
    ])
    .sort((a, b) => a.at - b.at || (a.kind === 'stop' ? -1 : 1));
  const label = (c: Container, stopped: boolean) =>
    JSON.stringify({
      container_id: c.id,
      workspace_id: 'ws_labels',
      app_id: 'app_fn',
      gpu_uuids: Array.from({ length: c.gpus }, (_, k) => uuid(c.gpu + k)),
      started_at: new Date(c.start).toISOString(),
      ...(stopped ? { stopped_at: c.stop } : {}),
    });
  let next = 0;
  const end = Math.max(...containers.map((c) => c.stop)) + 2_000;
  // Ticks at a phase the workload knows nothing about.
  for (let tick = t0 + 337; tick <= end; tick += 1000) {
    while (next < changes.length && changes[next].at <= tick) {
      const { c, kind } = changes[next++];
      const file = join(labels, `${c.id}.json`);
      if (kind === 'start') writeFileSync(file, label(c, false));
      else if (contract === 'stopped_at') writeFileSync(file, label(c, true));
      else rmSync(file);
    }
    time.mono = tick - t0;
    await agent.tick();
  }
  await agent.stop(10_000);
  const truth = containers.reduce((n, c) => n + BigInt(c.gpus) * BigInt(c.stop - c.start), 0n);
  return { truth, billed: sender.gpuMs(), labelsLeft: readdirSync(labels), spool, containers };
}

describe('the agent label contract', () => {
  it('1,000 containers of 50 ms – 3 s at random phases: billed GPU-ms equals the truth exactly, files removed', async () => {
    const { truth, billed, labelsLeft, containers } = await run('stopped_at');
    // The workload does what it says: many shorter than a tick, many between two readings.
    expect(containers.filter((c) => c.stop - c.start < 1000).length).toBeGreaterThan(200);
    expect(billed).toBe(truth);
    expect(labelsLeft).toEqual([]);
  }, 60_000);

  it('a runtime that only deletes labels is billed approximately (why the contract exists)', async () => {
    const { truth, billed } = await run('delete-only');
    expect(billed).not.toBe(truth);
  }, 60_000);

  it('spool folder 0700, its files 0600', async () => {
    const { spool } = await run('stopped_at');
    expect(statSync(spool).mode & 0o777).toBe(0o700);
    for (const f of readdirSync(spool))
      expect({ f, mode: statSync(join(spool, f)).mode & 0o777 }).toEqual({ f, mode: 0o600 });
  }, 60_000);
});

describe('label files the agent cannot trust', () => {
  const ok = { container_id: 'c', workspace_id: 'w', app_id: 'a', gpu_uuids: ['GPU-1'] };
  it.each([
    [null, 'not a JSON object'],
    [[], 'not a JSON object'],
    [{ ...ok, container_id: 5 }, 'container_id'],
    [{ ...ok, gpu_uuids: 'GPU-1' }, 'gpu_uuids'],
    [{ ...ok, gpu_uuids: [] }, 'gpu_uuids'],
    [{ ...ok, started_at: 'yesterday' }, 'started_at'],
    [{ ...ok, stopped_at: 5 }, 'stopped_at needs started_at'],
    [{ ...ok, started_at: 2000, stopped_at: 1000 }, 'before started_at'],
    [{ ...ok, memory_mib: -1 }, 'memory_mib'],
  ])('%p is refused (%s)', (label, why) => {
    expect(refuseLabel(label)).toContain(why);
  });

  it('a malformed label skips its own container only, warns once and counts', async () => {
    const labels = mkdtempSync(join(tmpdir(), 'labels-'));
    writeFileSync(
      join(labels, 'good.json'),
      JSON.stringify({ ...ok, container_id: 'good', gpu_uuids: [uuid(0)] }),
    );
    writeFileSync(join(labels, 'bad.json'), JSON.stringify({ ...ok, container_id: 'bad', gpu_uuids: 'GPU' }));
    writeFileSync(join(labels, 'torn.json'), '{"container_id": "to');
    const warnings: string[] = [];
    const source = new NvidiaSmiUsageSource(
      labels,
      (m) => warnings.push(m),
      async () => NVIDIA_SMI,
    );
    for (let i = 0; i < 3; i++)
      expect((await source.read()).running.map((o) => o.container_id)).toEqual(['good']);
    expect(warnings).toHaveLength(2);
    // bad.json each time; torn.json from its second reading (once may be a write in progress).
    expect(source.counters.skipped).toBe(5);
  });

  it('one GPU in two labels is billed once, to the container that started first, and reported', () => {
    const devices = [0, 1].map((i) => ({ index: i, uuid: uuid(i), name: 'H100', gpuType: 'H100' }));
    const warnings: string[] = [];
    let conflicts = 0;
    const obs = attribute(
      devices,
      [
        { ...ok, container_id: 'late', gpu_uuids: [uuid(0), uuid(1)], started_at: 2000 },
        { ...ok, container_id: 'early', gpu_uuids: [uuid(0)], started_at: 1000 },
      ],
      (m) => warnings.push(m),
      () => conflicts++,
    );
    expect(obs.map((o) => [o.container_id, o.gpu_count])).toEqual([
      ['early', 1],
      ['late', 1],
    ]);
    expect(conflicts).toBe(1);
    expect(warnings[0]).toMatch(/already labelled for container early/);
  });

  it('a label caught mid-write leaves its container open; a stop the clock has not reached waits', async () => {
    const labels = mkdtempSync(join(tmpdir(), 'labels-'));
    const file = join(labels, 'ct.json');
    const base = { ...ok, container_id: 'ct', gpu_uuids: [uuid(0)], started_at: 1_000 };
    const warnings: string[] = [];
    const source = new NvidiaSmiUsageSource(
      labels,
      (m) => warnings.push(m),
      async () => NVIDIA_SMI,
    );
    writeFileSync(file, JSON.stringify(base));
    expect((await source.read(0, 2_000)).running.map((o) => o.container_id)).toEqual(['ct']);
    writeFileSync(file, '{"container_id": "ct", "gpu_');
    expect(await source.read(0, 3_000)).toMatchObject({ running: [], stopped: [], unreadable: ['ct'] });
    expect(warnings).toEqual([]); // once is a torn write, not yet a broken file
    writeFileSync(file, JSON.stringify({ ...base, stopped_at: 5_000 }));
    const early = await source.read(0, 4_000);
    expect(early.running.map((o) => o.container_id)).toEqual(['ct']);
    expect(early.stopped).toEqual([]);
    const late = await source.read(0, 5_000);
    expect(late.stopped).toMatchObject([{ container_id: 'ct', stopped_at_ms: 5_000 }]);
  });

  it('refused.jsonl is bounded: it rotates to refused.jsonl.1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spool-'));
    for (let i = 0; i < 30; i++) await keepRefused(dir, `${'x'.repeat(99)}\n`, 1000);
    const files = readdirSync(dir).sort();
    expect(files).toEqual(['refused.jsonl', 'refused.jsonl.1']);
    for (const f of files) {
      expect(statSync(join(dir, f)).size).toBeLessThanOrEqual(1000);
      expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600);
    }
  });
});
