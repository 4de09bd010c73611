import { SEED_GPU_TYPES } from '../catalog/gpu-types';
import { UsageCloudEvent } from '../ingestion/usage-event/usage-event';
import { HOUR_MS } from '../common/time';

/**
 * A small, seedable synthetic GPU workload: containers of every GPU type running for a
 * while, each reporting 10-second intervals that tile its run exactly. It keeps its own
 * ledger of GPU-milliseconds per workspace and GPU type — what the pipeline must bill.
 * (The worker agent, `gpumeter agent --simulate`, supersedes this in issue 3.)
 */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s / 2 ** 32;
  };
}

export interface SyntheticWorkload {
  events: UsageCloudEvent[];
  /** workspace → gpu_type → GPU-ms */
  ledger: Map<string, Map<string, bigint>>;
}

export function syntheticWorkload(opts: {
  seed: number;
  workspaces: string[];
  containersPerWorkspace: number;
  /** Every interval ends before this instant. */
  endMs: number;
  /** How far back the runs may start. */
  spanMs: number;
  intervalMs?: number;
}): SyntheticWorkload {
  const random = seededRandom(opts.seed);
  const interval = opts.intervalMs ?? 10_000;
  const events: UsageCloudEvent[] = [];
  const ledger = new Map<string, Map<string, bigint>>();
  for (const ws of opts.workspaces) {
    for (let c = 0; c < opts.containersPerWorkspace; c++) {
      const gpuType = SEED_GPU_TYPES[Math.floor(random() * SEED_GPU_TYPES.length)];
      const gpuCount = [1, 1, 2, 4, 8][Math.floor(random() * 5)];
      const containerId = `ct_${ws}_${c}_${Math.floor(random() * 1e9).toString(36)}`;
      const host = `agent://gpu-host-${Math.floor(random() * 20)}`;
      const runMs = 1_000 + Math.floor(random() * Math.min(opts.spanMs - 1_000, 2 * HOUR_MS));
      const startMs = opts.endMs - runMs - Math.floor(random() * (opts.spanMs - runMs));
      const app = `app_${Math.floor(random() * 3)}`;
      const fn = `fn_${Math.floor(random() * 4)}`;
      for (let from = startMs; from < startMs + runMs; from += interval) {
        const to = Math.min(from + interval, startMs + runMs);
        events.push({
          specversion: '1.0',
          id: `${containerId}:${from}`,
          source: host,
          type: 'gpu.usage.v1',
          subject: ws,
          time: new Date(to).toISOString(),
          datacontenttype: 'application/json',
          data: {
            container_id: containerId,
            app_id: app,
            function_id: fn,
            gpu_type: gpuType,
            gpu_count: gpuCount,
            started_at: new Date(from).toISOString(),
            ended_at: new Date(to).toISOString(),
            cpu_millicores: 1000 * gpuCount,
            memory_mib: 16_384 * gpuCount,
            region: ['us-east', 'eu-west'][Math.floor(random() * 2)],
            provider: 'oci',
          },
        });
        const perType = ledger.get(ws) ?? new Map<string, bigint>();
        perType.set(gpuType, (perType.get(gpuType) ?? 0n) + BigInt(gpuCount * (to - from)));
        ledger.set(ws, perType);
      }
    }
  }
  return { events, ledger };
}
