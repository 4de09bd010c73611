import { mkdir, readFile } from 'node:fs/promises';
import { kafkaConnection, probeKafkaSecurity } from '../platform/kafka/kafka-connection';
import { parseIngestToken } from '../auth/source-patterns';
import { createServer, Server } from 'node:http';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { AppConfig } from '../app-config';
import { topicsFor } from '../platform/kafka/topics';
import { AgentClock, systemClock } from '../agent/clock';
import { EventSender, HttpEventSender, KafkaEventSender } from '../agent/event-sender';
import { LabelCounters, NvidiaSmiUsageSource } from '../agent/nvidia-smi-source';
import { SimulatedUsageSource } from '../agent/simulated-source';
import { writeJsonAtomically } from '../agent/spool';
import { UsageSource } from '../agent/usage-source';
import { WorkerAgent } from '../agent/worker-agent';
import { HOUR_MS, MINUTE_MS, SECOND_MS } from '../common/time';

export interface AgentCliOptions {
  simulate: boolean;
  /** Without --simulate: the runtime's label folder for the nvidia-smi source. */
  labels: string;
  seed: number;
  workspaces: number;
  containers: number;
  durationMs: number;
  speed: number;
  spool: string;
  intervalMs: number;
  via: 'kafka' | 'http';
  url: string;
  name: string;
  tickMs: number;
  spoolMaxBytes: number;
  /** How long to keep trying to deliver the spool at shutdown. */
  drainMs: number;
  statusPort?: number;
}

/** "60s", "5m", "2h", "1500ms" or a plain number of seconds → ms. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new Error(`not a duration: ${text} (e.g. 60s, 5m, 2h)`);
  const factor = { ms: 1, s: SECOND_MS, m: MINUTE_MS, h: HOUR_MS }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(m[1]) * factor);
}

interface SimulationState {
  seed: number;
  workspaces: number;
  containers: number;
  speed: number;
  startMs: number;
  endMs: number;
  wallEpochMs: number;
}

const stderr = (level: string, message: string) =>
  process.stderr.write(
    `${JSON.stringify({ time: new Date().toISOString(), level, component: 'agent', message })}\n`,
  );

/**
 * `gpumeter agent --simulate …`: runs a synthetic workload for --duration (real time; with
 * --speed K, K simulated seconds per real second, ending at the moment the run ends so no
 * event is in the future). The simulation's timeline is kept in the spool folder, so an
 * agent restarted on the same spool continues the same world. Prints, as its last line, the
 * GPU-ms it emitted per workspace and GPU type.
 */
export async function runAgent(config: AppConfig, o: AgentCliOptions): Promise<void> {
  await mkdir(o.spool, { recursive: true });
  // A refused password or CA stops the agent at once (exit 78); an unreachable broker does not.
  if (o.via === 'kafka') await probeKafkaSecurity(kafkaConnection(config), `gpumeter-agent-${o.name}`);
  if (!o.simulate) return runOnHost(config, o);
  const statePath = join(o.spool, 'simulation.json');
  let sim: SimulationState;
  try {
    sim = JSON.parse(await readFile(statePath, 'utf8')) as SimulationState;
  } catch {
    const now = Date.now();
    sim = {
      seed: o.seed,
      workspaces: o.workspaces,
      containers: o.containers,
      speed: o.speed,
      startMs: now - o.durationMs * o.speed,
      endMs: now,
      wallEpochMs: now,
    };
    await writeJsonAtomically(statePath, sim);
  }
  // Billing time: anchored once from the wall clock, then monotonic.
  const clock = new AgentClock(
    systemClock,
    sim.speed,
    sim.startMs + (Date.now() - sim.wallEpochMs) * sim.speed,
  );
  await drive(config, o, new SimulatedUsageSource({ ...sim }), clock, () => clock.nowMs() >= sim.endMs);
}

/**
 * Runs the agent until `done()` or SIGTERM/SIGINT, then closes every open interval, drains
 * what it can, and prints its ledger and status as one JSON line (the last line of stdout).
 */
async function drive(
  config: AppConfig,
  o: AgentCliOptions,
  source: UsageSource,
  clock: AgentClock,
  done: () => boolean,
): Promise<void> {
  const agent = new WorkerAgent(
    {
      source: o.name,
      intervalMs: o.intervalMs,
      spoolDir: o.spool,
      spoolMaxBytes: o.spoolMaxBytes,
      tickMs: o.tickMs,
      sendBatch: 2000,
      log: stderr,
    },
    source,
    senderFor(config, o),
    clock,
  );
  await agent.start();
  const statusServer =
    o.statusPort !== undefined
      ? serveStatus(agent, o.statusPort, source instanceof NvidiaSmiUsageSource ? source.counters : undefined)
      : undefined;
  let stopRequested = false;
  const onSignal = (signal: string) => {
    stderr('info', `${signal}: closing open intervals and draining`);
    stopRequested = true;
  };
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  process.once('SIGINT', () => onSignal('SIGINT'));
  // A last reading after the loop sees the containers that stopped since the previous one,
  // at their exact stop times; whatever still runs is closed at this moment by stop().
  for (let last = false; !last;) {
    last = stopRequested || done();
    try {
      await agent.tick();
    } catch (e) {
      stderr('error', `reading usage failed: ${(e as Error).message}`);
    }
    if (Math.abs(clock.wallSkewMs()) > 60_000 && clock.speed === 1) {
      stderr('warn', `wall clock differs from billing time by ${clock.wallSkewMs()} ms`);
    }
    if (!last) await new Promise((r) => setTimeout(r, o.tickMs));
  }
  await agent.stop(o.drainMs);
  statusServer?.close();
  const status = agent.status();
  process.stdout.write(
    `${JSON.stringify({ gpu_ms: agent.ledgerJson(), events_emitted: status.events_emitted, events_sent: status.events_sent, spool_depth: status.spool_depth })}\n`,
  );
}

/**
 * How the agent delivers: `--via` when given; otherwise over HTTP when `--url` is given (an
 * agent outside the cluster network uses its own token there), else straight to Kafka.
 */
export function agentTransport(
  via: string | boolean | undefined,
  url: string | boolean | undefined,
): { via: 'kafka' | 'http'; url: string } {
  const chosen = via === undefined ? (url === undefined ? 'kafka' : 'http') : String(via);
  if (chosen !== 'kafka' && chosen !== 'http') throw new Error('--via must be kafka or http');
  return { via: chosen, url: url === undefined ? 'http://127.0.0.1:3000' : String(url) };
}

function senderFor(config: AppConfig, o: AgentCliOptions): EventSender {
  if (o.via === 'kafka') {
    return new KafkaEventSender(
      kafkaConnection(config),
      topicsFor(config).usageEvents,
      `gpumeter-agent-${o.name}`,
      config.KAFKA_COMPRESSION,
    );
  }
  const token =
    config.AGENT_TOKEN ?? (config.INGEST_TOKENS[0] && parseIngestToken(config.INGEST_TOKENS[0]).token);
  if (!token)
    throw new Error(
      'AGENT_TOKEN: --via http needs an agent token (AGENT_TOKEN, or the first of INGEST_TOKENS)',
    );
  return new HttpEventSender(o.url, token);
}

/** On a GPU host: nvidia-smi and the runtime's label files, real time, until SIGTERM/SIGINT. */
async function runOnHost(config: AppConfig, o: AgentCliOptions): Promise<void> {
  const source = new NvidiaSmiUsageSource(o.labels, (m) => stderr('warn', m));
  await drive(config, o, source, new AgentClock(systemClock), () => false);
}

function serveStatus(agent: WorkerAgent, port: number, labels?: LabelCounters): Server {
  const server = createServer((req, res) => {
    const s = agent.status();
    const labelLines = labels
      ? [
          `gpumeter_agent_label_files_skipped_total ${labels.skipped}`,
          `gpumeter_agent_gpu_label_conflicts_total ${labels.conflicts}`,
        ]
      : [];
    if (req.url === '/metrics') {
      res.setHeader('content-type', 'text/plain; version=0.0.4');
      res.end(
        [
          `gpumeter_agent_running_containers ${s.running_containers}`,
          `gpumeter_agent_spool_depth ${s.spool_depth}`,
          `gpumeter_agent_spool_bytes ${s.spool_bytes}`,
          `gpumeter_agent_events_emitted_total ${s.events_emitted}`,
          `gpumeter_agent_events_sent_total ${s.events_sent}`,
          `gpumeter_agent_last_successful_send_timestamp_seconds ${s.last_successful_send ? Date.parse(s.last_successful_send) / 1000 : 0}`,
          ...labelLines,
          '',
        ].join('\n'),
      );
      return;
    }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(s));
  });
  server.listen(port, '127.0.0.1');
  return server;
}

export const defaultAgentName = () => `agent://${hostname()}`;
