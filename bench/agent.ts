/**
 * npm run bench:agent — what one worker agent costs:
 *   1. events/s one agent can account and spool (fsync'd), with a sender that acknowledges at once;
 *   2. CPU and memory of `gpumeter agent` watching 1,000 containers in real time (10 s
 *      intervals, 1 s ticks), sending to the local Kafka.
 * Options: --containers N (default 1000), --seconds S (default 30).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentClock, ClockSource } from '../src/agent/clock';
import { EventSender } from '../src/agent/event-sender';
import { SimulatedUsageSource } from '../src/agent/simulated-source';
import { WorkerAgent } from '../src/agent/worker-agent';
import { benchEnv, dropBenchEnv, median, ROOT, writeBenchResult, arg } from './bench-support';

const CONTAINERS = arg('--containers', 1000);
const SECONDS = arg('--seconds', 30);
const TICKS = arg('--ticks', 600);
const log = (s: string) => process.stderr.write(`[bench:agent] ${s}\n`);

const instantSender: EventSender = { send: async () => [], close: async () => undefined };

/** Accounting + spooling throughput: simulated time stepped 1 s per tick, as fast as it goes. */
async function emitAndSpoolRate(): Promise<number> {
  let mono = 0;
  const fake: ClockSource = { monotonicMs: () => mono, wallMs: () => Date.now() };
  const start = Date.now() - 3 * 3_600_000;
  const clock = new AgentClock(fake, 1, start);
  const source = new SimulatedUsageSource({
    seed: 5,
    workspaces: 50,
    containers: CONTAINERS,
    startMs: start,
    endMs: start + 3 * 3_600_000,
  });
  const agent = new WorkerAgent(
    {
      source: 'agent://bench',
      intervalMs: 10_000,
      spoolDir: mkdtempSync(join(tmpdir(), 'agent-bench-')),
      spoolMaxBytes: 8 * 1024 ** 3,
      tickMs: 1000,
      sendBatch: 5000,
      log: () => undefined,
    },
    source,
    instantSender,
    clock,
  );
  await agent.start();
  const t0 = process.hrtime.bigint();
  for (let tick = 0; tick < TICKS; tick++) {
    mono += 1000;
    await agent.tick();
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const emitted = agent.status().events_emitted;
  await agent.stop(5_000);
  return emitted / seconds;
}

/** CPU (share of one core) and peak RSS of the agent process watching CONTAINERS containers live. */
async function liveCost(): Promise<{
  cpuShareOfOneCore: number;
  peakRssMiB: number;
  eventsPerSecond: number;
}> {
  const env = await benchEnv('agent');
  const spool = mkdtempSync(join(tmpdir(), 'agent-live-'));
  const child = spawn(
    process.execPath,
    [
      join(ROOT, 'dist', 'main.js'),
      'agent',
      '--simulate',
      '--seed',
      '9',
      '--workspaces',
      '50',
      '--containers',
      String(CONTAINERS),
      '--duration',
      `${SECONDS}s`,
      '--speed',
      '1',
      '--spool',
      spool,
    ],
    { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'ignore'] },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise((r) => child.on('exit', r));
  await new Promise((r) => setTimeout(r, 3000)); // past start-up
  const cpuAt = () => {
    const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(stat[11]) + Number(stat[12])) / 100;
  };
  const c0 = cpuAt();
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, (SECONDS - 6) * 1000));
  const cpu = cpuAt() - c0;
  const wall = (Date.now() - t0) / 1000;
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  const peak = Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024;
  await exited;
  const last = JSON.parse(out.trim().split('\n').pop()!) as { events_emitted: number };
  await dropBenchEnv(env);
  return {
    cpuShareOfOneCore: cpu / wall,
    peakRssMiB: Math.round(peak),
    eventsPerSecond: last.events_emitted / SECONDS,
  };
}

async function main() {
  const rates: number[] = [];
  for (let i = 0; i < 3; i++) {
    rates.push(await emitAndSpoolRate());
    log(`emit + spool: ${Math.round(rates[i])} events/s`);
  }
  const live = await liveCost();
  log(
    `live, ${CONTAINERS} containers: ${(live.cpuShareOfOneCore * 100).toFixed(1)} % of one core, peak RSS ${live.peakRssMiB} MiB`,
  );
  const result = {
    date: new Date().toISOString(),
    cores: cpus().length,
    containers: CONTAINERS,
    emitAndSpoolRuns: rates,
    emitAndSpoolMedian: median(rates),
    live,
  };
  writeBenchResult(
    'agent',
    'Worker agent (npm run bench:agent)',
    [
      `Last run: ${result.date}, ${result.cores} cores; Kafka and ClickHouse running on the same machine.`,
      '',
      '| measure | result |',
      '| --- | --- |',
      `| events one agent accounts and spools (fsync'd each 1 s tick, ${CONTAINERS} container slots, sender acknowledging at once), median of 3 | ${Math.round(result.emitAndSpoolMedian).toLocaleString('en-US')} events/s (${rates.map((r) => Math.round(r).toLocaleString('en-US')).join(', ')}) |`,
      `| CPU of \`gpumeter agent\` watching ${CONTAINERS} containers live (10 s intervals, 1 s ticks, sending to Kafka) | ${(live.cpuShareOfOneCore * 100).toFixed(1)} % of one core |`,
      `| its peak RSS | ${live.peakRssMiB} MiB |`,
      `| events it emitted | ${live.eventsPerSecond.toFixed(0)} events/s |`,
    ],
    result,
  );
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`${(e as Error).stack}\n`);
    process.exit(1);
  },
);
