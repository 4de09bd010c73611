import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimulatedUsageSource } from '../src/agent/simulated-source';
import { chReader } from './support/clickhouse';
import { ServiceProcess } from './support/service-process';
import { stack } from './support/stack';
import { freePort, isolatedEnv, ROOT } from './support/test-env';
import { decodeSegment } from '../src/agent/spool';
import { readdirSync, truncateSync } from 'node:fs';
import { waitFor } from './support/workload';

/** The worker agent as a real process, against the real Kafka, consumer and ClickHouse. */
class AgentProcess {
  private child?: ReturnType<typeof spawn>;
  stdout = '';
  stderr = '';
  exited!: Promise<number | null>;
  constructor(
    private readonly env: Record<string, string>,
    private readonly args: string[],
  ) {}
  start(): this {
    const child = spawn(
      process.execPath,
      [join(ROOT, 'dist', 'main.js'), 'agent', '--simulate', ...this.args],
      {
        env: { PATH: process.env.PATH ?? '', ...this.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout.on('data', (d: Buffer) => (this.stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.child = child;
    this.exited = new Promise((r) => child.on('exit', (code) => r(code)));
    return this;
  }
  kill(signal: NodeJS.Signals) {
    this.child?.kill(signal);
    return this.exited;
  }
  /** The agent's own ledger: the last line it printed. */
  ledger(): Record<string, Record<string, string>> {
    const lines = this.stdout.trim().split('\n');
    return (JSON.parse(lines[lines.length - 1]) as { gpu_ms: Record<string, Record<string, string>> }).gpu_ms;
  }
}

/** What the simulation in this spool ran, per workspace and GPU type (its own ground truth). */
function simulationTruth(spool: string): Map<string, Map<string, bigint>> {
  const sim = JSON.parse(readFileSync(join(spool, 'simulation.json'), 'utf8'));
  return new SimulatedUsageSource(sim).truth(sim.startMs, sim.endMs);
}
const flatten = (m: Map<string, Map<string, bigint>>) =>
  Object.fromEntries([...m].flatMap(([ws, types]) => [...types].map(([t, ms]) => [`${ws}/${t}`, ms])));

describe('worker agent → Kafka → consumer → ClickHouse', () => {
  const processes: ServiceProcess[] = [];
  afterAll(async () => {
    for (const p of processes) await p.kill('SIGKILL');
  });

  async function billed(env: Record<string, string>) {
    const ch = chReader(env);
    const rows = await ch.all<{ ws: string; t: string; ms: string }>(
      'SELECT workspace_id AS ws, gpu_type AS t, sum(gpu_ms) AS ms FROM usage_events GROUP BY ws, t',
    );
    const hourly = await ch.one<{ ms: string }>('SELECT sum(gpu_ms) AS ms FROM usage_hourly');
    const dup = await ch.one<{ d: string }>(
      'SELECT count() AS d FROM (SELECT source, id FROM usage_events GROUP BY source, id HAVING count() > 1)',
    );
    await ch.close();
    return {
      perType: Object.fromEntries(rows.map((r) => [`${r.ws}/${r.t}`, BigInt(r.ms)])),
      hourlyTotal: BigInt(hourly.ms),
      duplicates: Number(dup.d),
    };
  }
  const total = (o: Record<string, bigint>) => Object.values(o).reduce((a, b) => a + b, 0n);

  async function setup(name: string) {
    const env = await isolatedEnv(name);
    const consumer = await new ServiceProcess(`${name}-consumer`, env, 'consumer').start();
    processes.push(consumer);
    return { env, spool: mkdtempSync(join(tmpdir(), `${name}-spool-`)) };
  }
  async function untilBilled(env: Record<string, string>, expected: bigint) {
    return waitFor(
      'billed total',
      () => billed(env),
      // Raw and rollup parts of an insert become visible one after the other: wait for both.
      (b) => total(b.perType) >= expected && b.hourlyTotal >= expected,
      120_000,
    );
  }

  it('50 simulated containers over 5 simulated minutes: ClickHouse bills exactly what ran, and the agent ledger agrees', async () => {
    const { env, spool } = await setup('agent50');
    const agent = new AgentProcess(env, [
      '--seed',
      '21',
      '--workspaces',
      '5',
      '--containers',
      '50',
      '--duration',
      '20s',
      '--speed',
      '15',
      '--spool',
      spool,
    ]).start();
    expect(await agent.exited).toBe(0);
    const truth = flatten(simulationTruth(spool));
    const ledger = Object.fromEntries(
      Object.entries(agent.ledger()).flatMap(([ws, types]) =>
        Object.entries(types).map(([t, ms]) => [`${ws}/${t}`, BigInt(ms)]),
      ),
    );
    expect(ledger).toEqual(truth);
    const b = await untilBilled(env, total(truth));
    expect(b.perType).toEqual(truth);
    expect(b.hourlyTotal).toBe(total(truth));
    expect(b.duplicates).toBe(0);
  });

  it('agent SIGKILLed mid-run and restarted on the same spool: still exact', async () => {
    const { env, spool } = await setup('agentkill');
    const args = [
      '--seed',
      '22',
      '--workspaces',
      '4',
      '--containers',
      '30',
      '--duration',
      '24s',
      '--speed',
      '10',
      '--spool',
      spool,
    ];
    const first = new AgentProcess(env, args).start();
    // Killed once it has demonstrably done part of the work — a third of what the simulation
    // runs is stored — and not all of it: mid-run by what it did, not by a clock.
    const whole = total(
      flatten(
        await waitFor(
          'the simulation written to the spool',
          async () => simulationTruth(spool),
          () => true,
        ),
      ),
    );
    await waitFor(
      'a third billed',
      () => billed(env),
      (b) => total(b.perType) * 3n >= whole,
      120_000,
    );
    expect(await first.kill('SIGKILL')).toBeNull(); // killed by the signal
    const storedAtKill = total((await billed(env)).perType);
    expect(storedAtKill).toBeLessThan(whole); // mid-run: not everything was stored yet
    const second = new AgentProcess(env, args).start();
    expect(await second.exited).toBe(0);
    const truth = flatten(simulationTruth(spool));
    expect(total(truth)).toBe(whole);
    // The second run emitted only the rest (the first run's intervals came from its spool and
    // checkpoint): less than the whole, and with what the first stored, at least all of it.
    const secondLedger = Object.values(second.ledger())
      .flatMap((t) => Object.values(t).map(BigInt))
      .reduce((a, b) => a + b, 0n);
    expect(secondLedger).toBeLessThan(total(truth));
    expect(secondLedger + storedAtKill).toBeGreaterThanOrEqual(total(truth));
    const b = await untilBilled(env, total(truth));
    expect(b.perType).toEqual(truth);
    expect(b.duplicates).toBe(0);
  });

  it('Kafka stopped for 30 s while the agent runs: it keeps accounting and spooling, drains after, totals exact', async () => {
    const { env, spool } = await setup('agentkafka');
    const args = [
      '--seed',
      '23',
      '--workspaces',
      '4',
      '--containers',
      '30',
      '--duration',
      '45s',
      '--speed',
      '5',
      '--spool',
      spool,
    ];
    const statusPort = await freePort();
    const agent = new AgentProcess(env, [...args, '--status-port', String(statusPort)]).start();
    await new Promise((r) => setTimeout(r, 6_000));
    await stack('down', 'kafka');
    try {
      await new Promise((r) => setTimeout(r, 25_000));
      // Still accounting and spooling, and saying so on its status endpoint.
      const status = (await (await fetch(`http://127.0.0.1:${statusPort}/status`)).json()) as Record<
        string,
        unknown
      >;
      expect(status.spool_depth).toBeGreaterThan(0);
      expect(status.last_send_error).toEqual(expect.any(String));
      expect(status.running_containers).toBeGreaterThan(0);
      expect(await (await fetch(`http://127.0.0.1:${statusPort}/metrics`)).text()).toMatch(
        /gpumeter_agent_spool_depth [1-9]/,
      );
      await new Promise((r) => setTimeout(r, 5_000));
    } finally {
      await stack('up', 'kafka');
    }
    expect(await agent.exited).toBe(0);
    expect(agent.stderr).toContain('send failed, spooling and retrying');
    const truth = flatten(simulationTruth(spool));
    const b = await untilBilled(env, total(truth));
    expect(b.perType).toEqual(truth);
    expect(b.duplicates).toBe(0);
  });

  it('--via http: the same guarantees through POST /v1/events with an agent token', async () => {
    const { env, spool } = await setup('agenthttp');
    const api = await new ServiceProcess('agenthttp-api', env, 'api').start();
    processes.push(api);
    const args = [
      '--seed',
      '24',
      '--workspaces',
      '3',
      '--containers',
      '20',
      '--duration',
      '10s',
      '--speed',
      '20',
      '--spool',
      spool,
      '--via',
      'http',
      '--url',
      api.url,
    ];
    const agent = new AgentProcess(env, args).start();
    expect(await agent.exited).toBe(0);
    const truth = flatten(simulationTruth(spool));
    const b = await untilBilled(env, total(truth));
    expect(b.perType).toEqual(truth);
    expect(b.duplicates).toBe(0);
    expect(await api.metric('gpumeter_ingest_events_accepted_total')).toBeGreaterThan(0);
  });

  it('a spool whose last record was cut in half: detected, reported, the rest delivered', async () => {
    const { env, spool } = await setup('agenttorn');
    const args = [
      '--seed',
      '25',
      '--workspaces',
      '2',
      '--containers',
      '10',
      '--duration',
      '6s',
      '--speed',
      '20',
      '--spool',
      spool,
    ];
    // First run: the API it sends to does not exist, so everything stays in the spool.
    const offline = new AgentProcess(env, [
      ...args,
      '--via',
      'http',
      '--url',
      'http://127.0.0.1:9',
      '--drain',
      '1s',
    ]).start();
    expect(await offline.exited).toBe(0);
    const [segment] = readdirSync(spool).filter((f) => f.startsWith('segment-'));
    const records = decodeSegment(readFileSync(join(spool, segment))).records.map((r) =>
      JSON.parse(r.payload),
    );
    expect(records.length).toBeGreaterThan(10);
    truncateSync(join(spool, segment), readFileSync(join(spool, segment)).length - 25); // a power cut mid-write
    const kept = records.slice(0, -1);
    const expected = kept.reduce(
      (sum, e) =>
        sum + BigInt(e.data.gpu_count) * BigInt(Date.parse(e.data.ended_at) - Date.parse(e.data.started_at)),
      0n,
    );
    // Second run on the same spool, now with Kafka: reports the torn record, delivers the rest.
    const online = new AgentProcess(env, args).start();
    expect(await online.exited).toBe(0);
    expect(online.stderr).toMatch(/damaged byte/);
    const b = await untilBilled(env, expected);
    expect(total(b.perType)).toBe(expected);
    expect(b.duplicates).toBe(0);
  });

  it('refuses a bad option with a message naming it', async () => {
    const bad = new AgentProcess({ KAFKA_BROKERS: '127.0.0.1:9092' }, ['--via', 'carrier-pigeon']).start();
    expect(await bad.exited).not.toBe(0);
    expect(bad.stderr).toContain('--via must be kafka or http');
    const badConfig = new AgentProcess({ KAFKA_BROKERS: 'no-port-here' }, []).start();
    expect(await badConfig.exited).toBe(78);
    expect(badConfig.stderr).toContain('KAFKA_BROKERS');
  });
});
