import { SEED_GPU_TYPES } from '../catalog/gpu-types';
import { seededRandom } from './synthetic-workload';
import { ContainerObservation, SourceReading, UsageSource } from './usage-source';
import { HOUR_MS } from '../common/time';

interface SimulatedContainer {
  observation: ContainerObservation & { started_at_ms: number };
  stoppedAtMs: number;
}

export interface SimulationOptions {
  seed: number;
  workspaces: number;
  /** Container slots: each runs containers back to back, with short gaps between them. */
  containers: number;
  /** The simulated world begins here (epoch ms). */
  startMs: number;
  /** And ends here: nothing runs after it. */
  endMs: number;
}

/**
 * A seedable synthetic GPU workload: N workspaces with apps and functions; container slots
 * that start and stop containers of every GPU type and count, running from seconds to hours
 * (log-uniform), with optional CPU and memory. The same seed gives the same world, so a
 * restarted agent sees the same containers, and `truth` says exactly what ran.
 */
export class SimulatedUsageSource implements UsageSource {
  readonly containers: SimulatedContainer[] = [];

  constructor(readonly options: SimulationOptions) {
    const random = seededRandom(options.seed);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)];
    for (let slot = 0; slot < options.containers; slot++) {
      const workspace = `ws_sim_${options.seed}_${(slot % options.workspaces) + 1}`;
      let t = options.startMs + Math.floor(random() * 5_000);
      let n = 0;
      while (t < options.endMs) {
        // Log-uniform between 5 s and 3 h: many short functions, some long trainings.
        const duration = Math.floor(5_000 * Math.exp(random() * Math.log((3 * HOUR_MS) / 5_000)));
        const gpuCount = pick([1, 1, 1, 2, 4, 8]);
        const withResources = random() < 0.7;
        const observation: ContainerObservation & { started_at_ms: number } = {
          container_id: `ct_${options.seed}_${slot}_${n}`,
          workspace_id: workspace,
          app_id: `app_${Math.floor(random() * 3)}`,
          function_id: `fn_${Math.floor(random() * 4)}`,
          gpu_type: pick(SEED_GPU_TYPES),
          gpu_count: gpuCount,
          region: pick(['us-east', 'us-west', 'eu-west']),
          provider: pick(['oci', 'aws', 'gcp']),
          started_at_ms: t,
        };
        if (withResources) {
          observation.cpu_millicores = 2000 * gpuCount;
          observation.memory_mib = 16_384 * gpuCount;
        }
        const stop = Math.min(t + duration, options.endMs);
        this.containers.push({ observation, stoppedAtMs: stop });
        t = stop + Math.floor(random() * 30_000);
        n++;
      }
    }
  }

  read(sinceMs: number, nowMs: number): SourceReading {
    const running: ContainerObservation[] = [];
    const stopped: SourceReading['stopped'] = [];
    for (const c of this.containers) {
      if (c.observation.started_at_ms > nowMs) continue;
      if (c.stoppedAtMs > nowMs) running.push(c.observation);
      else if (c.stoppedAtMs > sinceMs) {
        stopped.push({
          container_id: c.observation.container_id,
          stopped_at_ms: c.stoppedAtMs,
          observation: c.observation,
        });
      }
    }
    return { running, stopped };
  }

  /** GPU-ms that ran in [fromMs, toMs), per workspace and GPU type: what must be billed. */
  truth(fromMs: number, toMs: number): Map<string, Map<string, bigint>> {
    const out = new Map<string, Map<string, bigint>>();
    for (const c of this.containers) {
      const start = Math.max(c.observation.started_at_ms, fromMs);
      const end = Math.min(c.stoppedAtMs, toMs);
      if (end <= start) continue;
      const perType = out.get(c.observation.workspace_id) ?? new Map<string, bigint>();
      const key = c.observation.gpu_type;
      perType.set(key, (perType.get(key) ?? 0n) + BigInt(c.observation.gpu_count) * BigInt(end - start));
      out.set(c.observation.workspace_id, perType);
    }
    return out;
  }
}
