import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chReader } from './support/clickhouse';
import { ServiceProcess } from './support/service-process';
import { isolatedEnv, ROOT } from './support/test-env';
import { rng, waitFor } from './support/workload';

/**
 * The label contract end to end (issue 10, finding 9): the real `gpumeter agent` in host mode
 * (a stand-in `nvidia-smi` on its PATH reporting 32 H100s), a "runtime" in this test writing
 * label files in real time — `started_at` at start, `stopped_at` at stop — for containers of
 * 50 ms to 3 s at random phases against the agent's 1 s tick, Kafka, the consumer and
 * ClickHouse. What is billed equals what ran, to the millisecond, and every label file is
 * removed by the agent once its usage is durable.
 */
const GPUS = 32;
const uuid = (i: number) => `GPU-00000000-0000-0000-0000-${String(i).padStart(12, '0')}`;

function fakeNvidiaSmi(): string {
  const bin = mkdtempSync(join(tmpdir(), 'fake-nvidia-smi-'));
  const gpus = Array.from(
    { length: GPUS },
    (_, i) => `${i}, ${uuid(i)}, NVIDIA H100 80GB HBM3, 81559, 90`,
  ).join('\n');
  writeFileSync(
    join(bin, 'nvidia-smi'),
    `#!/bin/sh\ncase "$1" in\n  --query-gpu*) cat <<'EOF'\n${gpus}\nEOF\n  ;;\n  *) echo "No running processes found" ;;\nesac\n`,
  );
  chmodSync(join(bin, 'nvidia-smi'), 0o755);
  return bin;
}

describe('agent label contract, end to end', () => {
  it('300 short containers written by a runtime in real time: ClickHouse bills exactly what ran; the labels are removed', async () => {
    const env = await isolatedEnv('agentlabels');
    const consumer = await new ServiceProcess('agentlabels-consumer', env, 'consumer').start();
    const labels = mkdtempSync(join(tmpdir(), 'labels-'));
    const spool = mkdtempSync(join(tmpdir(), 'agentlabels-spool-'));
    const agent = spawn(
      process.execPath,
      [
        join(ROOT, 'dist', 'main.js'),
        'agent',
        '--labels',
        labels,
        '--spool',
        spool,
        '--tick',
        '1s',
        '--name',
        'agent://labels-e2e',
      ],
      {
        env: { ...env, PATH: `${fakeNvidiaSmi()}:${process.env.PATH ?? ''}` },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    agent.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => agent.on('exit', (code) => r(code)));
    const ch = chReader(env);
    try {
      // The runtime: each GPU runs containers one after another with random gaps.
      const random = rng(1201);
      let truth = 0n;
      let count = 0;
      const t0 = Date.now() + 500;
      const timers: Promise<void>[] = [];
      for (let gpu = 0; gpu < GPUS && count < 300; gpu++) {
        let at = t0 + Math.floor(random() * 1000);
        for (let k = 0; k < 10 && count < 300; k++, count++) {
          const lifetime = 50 + Math.floor(random() * 2950);
          const start = at;
          const id = `ct_${gpu}_${k}`;
          truth += BigInt(lifetime);
          const label = (stopped: boolean) =>
            JSON.stringify({
              container_id: id,
              workspace_id: 'ws_labels',
              app_id: 'app_fn',
              gpu_uuids: [uuid(gpu)],
              started_at: new Date(start).toISOString(),
              ...(stopped ? { stopped_at: start + lifetime } : {}),
            });
          const file = join(labels, `${id}.json`);
          // As the contract asks: each version written whole, then renamed into place.
          const write = (text: string) => {
            writeFileSync(`${file}.tmp`, text);
            renameSync(`${file}.tmp`, file);
          };
          const sleepUntil = (t: number) => new Promise((r) => setTimeout(r, Math.max(0, t - Date.now())));
          timers.push(
            (async () => {
              await sleepUntil(start);
              write(label(false));
              await sleepUntil(start + lifetime);
              write(label(true));
            })(),
          );
          at = start + lifetime + 1 + Math.floor(random() * 400);
        }
      }
      await Promise.all(timers);
      await waitFor(
        'every label removed by the agent',
        async () => readdirSync(labels).length,
        (n) => n === 0,
        20_000,
      );
      const billed = await waitFor(
        'the usage stored',
        () =>
          ch.one<{ ms: string; n: string }>(
            `SELECT sum(gpu_ms) AS ms, count() AS n FROM usage_events WHERE workspace_id = 'ws_labels'`,
          ),
        (r) => Number(r.n) >= 300,
        60_000,
      );
      expect(BigInt(billed.ms)).toBe(truth);
      const hourly = await waitFor(
        'the hourly rollups',
        () =>
          ch.one<{ ms: string }>(
            `SELECT sum(gpu_ms) AS ms FROM usage_hourly WHERE workspace_id = 'ws_labels'`,
          ),
        (r) => BigInt(r.ms ?? 0) >= BigInt(billed.ms),
        30_000,
      );
      expect(BigInt(hourly.ms)).toBe(truth);
      expect(existsSync(join(spool, 'refused.jsonl'))).toBe(false);
    } finally {
      agent.kill('SIGTERM');
      expect(await exited).toBe(0);
      await ch.close();
      await consumer.kill();
    }
    expect(stderr).not.toMatch(/skipped|conflict/);
  }, 180_000);
});
