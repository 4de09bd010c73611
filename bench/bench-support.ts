import { spawn, ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../src/app-config';
import { migrate } from '../src/platform/clickhouse/migrator';
import { KafkaAdmin } from '../src/platform/kafka/kafka-admin';
import { KafkaClient } from '../src/platform/kafka/kafka-client';
import { SEED_GPU_TYPES } from '../src/catalog/gpu-types';

export const ROOT = join(__dirname, '..', '..');
export const ADMIN_KEY = 'bench-operator-key-0123456789abcdef';
export const AGENT_TOKEN = 'bench-agent-token-0123456789abcdef';

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** A fresh database, topic prefix and consumer group on the local stack. */
export async function benchEnv(name: string, partitions = 6): Promise<Record<string, string>> {
  const suffix = `${name}_${Date.now().toString(36)}_${randomBytes(2).toString('hex')}`;
  const env: Record<string, string> = {
    GPUMETER_ENV: 'test',
    KAFKA_BROKERS: '127.0.0.1:9092',
    CLICKHOUSE_URL: 'http://127.0.0.1:8123',
    CLICKHOUSE_DATABASE: `bench_${suffix}`,
    KAFKA_TOPIC_PREFIX: `bench.${suffix}.`,
    KAFKA_CONSUMER_GROUP: `bench-${suffix}`,
    KAFKA_USAGE_PARTITIONS: String(partitions),
    ADMIN_API_KEY: ADMIN_KEY,
    INGEST_TOKENS: AGENT_TOKEN,
    LOG_LEVEL: 'warn',
    // One client drives each bench with one credential: the limits would measure themselves.
    RATE_LIMIT_PER_CREDENTIAL_PER_SECOND: '1000000',
    AUTH_FAILURES_PER_MINUTE: '1000000',
  };
  const config = loadConfig(env);
  await migrate(config, join(ROOT, 'migrations'));
  const client = new KafkaClient(config);
  await new KafkaAdmin(client, config).ensureTopics();
  await client.onModuleDestroy();
  return env;
}

/** The service as production runs it (compiled), one role per process. */
export class ServiceProc {
  child!: ChildProcess;
  port = 0;
  constructor(
    readonly env: Record<string, string>,
    readonly role: 'api' | 'consumer' | 'all',
  ) {}
  async start(): Promise<this> {
    this.port = await freePort();
    // BENCH_CPU_PROFILE=<dir>: each service process writes a V8 CPU profile there on exit.
    const profile = process.env.BENCH_CPU_PROFILE
      ? [
          '--cpu-prof',
          `--cpu-prof-dir=${process.env.BENCH_CPU_PROFILE}`,
          `--cpu-prof-name=${this.role}-${Date.now()}.cpuprofile`,
        ]
      : [];
    this.child = spawn(
      process.execPath,
      // As the README says to run it: a larger young generation (fewer scavenges per event).
      ['--max-semi-space-size=32', ...profile, join(ROOT, 'dist', 'main.js'), 'serve', '--role', this.role],
      {
        env: { PATH: process.env.PATH ?? '', ...this.env, PORT: String(this.port) },
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    for (let i = 0; i < 300; i++) {
      try {
        if ((await fetch(`http://127.0.0.1:${this.port}/healthz`)).ok) return this;
      } catch {
        /* starting */
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`service ${this.role} did not start`);
  }
  /** Peak resident set size (VmHWM) in MiB. */
  peakRssMiB(): number {
    const status = readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
    const m = /VmHWM:\s+(\d+) kB/.exec(status);
    return m ? Math.round(Number(m[1]) / 1024) : NaN;
  }
  cpuSeconds(): number {
    return processCpuSeconds(this.child.pid!);
  }
  async stop(): Promise<void> {
    this.child.kill('SIGTERM');
    await new Promise((r) => this.child.once('exit', r));
  }
}

/** CPU seconds (user + system) a process has used so far, from /proc (clock ticks at 100 Hz). */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(stat[11]) + Number(stat[12])) / 100;
}

/**
 * CPU seconds used so far by the local stack's Kafka broker and ClickHouse server (their pids
 * as stack/stack.sh recorded them): a bench reads it before and after a measurement to show
 * where this machine's two cores went.
 */
export function stackCpuSeconds(): { kafka: number; clickhouse: number } {
  const of = (name: string) => {
    const pid = Number(readFileSync(join(ROOT, '.local', name, `${name}.pid`), 'utf8').trim());
    return processCpuSeconds(pid);
  };
  return { kafka: of('kafka'), clickhouse: of('clickhouse') };
}

/**
 * Usage event number i of a deterministic workload: `workspaces` workspaces, 50 containers
 * each, every GPU type, 10-second intervals ending within the last hour.
 */
export function benchEvent(i: number, workspaces: number, baseMs: number) {
  const ws = i % workspaces;
  const container = Math.floor(i / workspaces) % 50;
  const slot = Math.floor(i / (workspaces * 50));
  const started = baseMs + slot * 10_000;
  const ended = started + 10_000 - (i % 997);
  const gpuType = SEED_GPU_TYPES[(ws + container) % SEED_GPU_TYPES.length];
  const gpuCount = 1 + (container % 8);
  const containerId = `ct_${ws}_${container}`;
  return {
    event: {
      specversion: '1.0',
      id: `${containerId}:${started}`,
      source: `agent://gpu-host-${container % 20}`,
      type: 'gpu.usage.v1',
      subject: `ws_${String(ws).padStart(4, '0')}`,
      time: new Date(ended).toISOString(),
      datacontenttype: 'application/json',
      data: {
        container_id: containerId,
        app_id: `app_${container % 5}`,
        function_id: `fn_${container % 7}`,
        gpu_type: gpuType,
        gpu_count: gpuCount,
        started_at: new Date(started).toISOString(),
        ended_at: new Date(ended).toISOString(),
        cpu_millicores: 2000 * gpuCount,
        memory_mib: 16384 * gpuCount,
        region: 'us-east',
        provider: 'oci',
      },
    },
    gpuMs: gpuCount * (ended - started),
  };
}

/** A numeric command-line option (`--name N`), or its default. */
export function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

/** p50 / p95 / p99 / max of latencies, and how many. */
export function latencyStats(xs: readonly number[]) {
  const s = [...xs].sort((a, b) => a - b);
  return {
    p50: percentile(s, 50),
    p95: percentile(s, 95),
    p99: percentile(s, 99),
    max: s[s.length - 1],
    n: s.length,
  };
}

/** A figure for a table: one decimal under 10, whole numbers with separators above. */
export const fmtMs = (n: number) => (n < 10 ? n.toFixed(1) : Math.round(n).toLocaleString('en-US'));

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export const median = (xs: number[]) =>
  percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );

/** Drops a benchmark environment's database and topics, so runs do not pile up data. */
export async function dropBenchEnv(env: Record<string, string>): Promise<void> {
  const { createClient } = await import('@clickhouse/client');
  const { Kafka, logLevel } = await import('kafkajs');
  const client = createClient({ url: env.CLICKHOUSE_URL });
  await client.command({ query: `DROP DATABASE IF EXISTS ${env.CLICKHOUSE_DATABASE}` });
  await client.close();
  const admin = new Kafka({
    clientId: 'bench-cleanup',
    brokers: env.KAFKA_BROKERS.split(','),
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(env.KAFKA_TOPIC_PREFIX));
  if (topics.length > 0) await admin.deleteTopics({ topics });
  await admin.disconnect();
}

/**
 * Replaces the `<!-- bench:NAME:start -->…<!-- bench:NAME:end -->` section of BENCHMARKS.md
 * with `lines` (appending it under `## heading` the first time), and saves the raw result.
 */
export function writeBenchResult(
  name: string,
  heading: string,
  lines: string[],
  raw: { date: string; [field: string]: unknown },
): void {
  writeFileSync(
    join(ROOT, 'bench', 'results', `${name}-${raw.date.replace(/[:.]/g, '-')}.json`),
    JSON.stringify(raw, null, 2),
  );
  const path = join(ROOT, 'BENCHMARKS.md');
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmarks\n';
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  const section = [start, ...lines, end].join('\n');
  const pattern = new RegExp(`${start}[\\s\\S]*${end}`);
  const next = pattern.test(text)
    ? text.replace(pattern, section)
    : `${text.trimEnd()}\n\n## ${heading}\n\n${section}\n`;
  writeFileSync(path, next);
}
