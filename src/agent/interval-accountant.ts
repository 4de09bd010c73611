import { UsageCloudEvent } from '../ingestion/usage-event/usage-event';
import { ContainerObservation, SourceReading } from './usage-source';
import { HOUR_MS } from '../common/time';

interface OpenInterval {
  observation: ContainerObservation;
  startMs: number;
}

/** How far ahead of the agent's clock a container's reported start may be. */
export const MAX_START_AHEAD_MS = 60_000;

/** Identity of an interval: the same (container, start) is the same event, billed once. */
export const intervalEventId = (containerId: string, startedAtMs: number) => `${containerId}:${startedAtMs}`;

/**
 * Turns readings of running containers into usage events, one per interval per container,
 * tiling each container's time exactly: an interval starts where the previous one ended,
 * to the millisecond. A container that stops gets a final partial interval; a change of its
 * GPU count or type closes the interval and opens the next one at the same instant.
 *
 * `resumeFrom` (container → end of the last interval already emitted) makes a restarted
 * agent continue where it stopped instead of re-opening closed intervals.
 */
export class IntervalAccountant {
  private readonly open = new Map<string, OpenInterval>();

  constructor(
    private readonly agentSource: string,
    private readonly intervalMs: number,
    private readonly resumeFrom: Map<string, number> = new Map(),
  ) {
    if (!Number.isInteger(intervalMs) || intervalMs < 1000 || intervalMs > HOUR_MS) {
      throw new RangeError('interval must be a whole number of ms between 1 s and 3600 s');
    }
  }

  /** Containers with an open interval. */
  get openContainers(): number {
    return this.open.size;
  }

  /** The end of the last emitted interval per container (what a checkpoint stores). */
  checkpoint(): Map<string, number> {
    const c = new Map<string, number>();
    for (const [id, o] of this.open) c.set(id, o.startMs);
    return c;
  }

  observe(reading: SourceReading, nowMs: number): UsageCloudEvent[] {
    const events: UsageCloudEvent[] = [];
    for (const stop of reading.stopped) {
      let o = this.open.get(stop.container_id);
      if (!o && stop.observation) {
        // Started and stopped between two readings (or while the agent was down).
        const start = this.resumeFrom.get(stop.container_id) ?? stop.observation.started_at_ms;
        if (start !== undefined) o = { observation: stop.observation, startMs: start };
      }
      if (!o) continue;
      const end = Math.min(stop.stopped_at_ms ?? nowMs, nowMs);
      this.emitUpTo(o, end, events, true);
      this.open.delete(stop.container_id);
      this.resumeFrom.delete(stop.container_id);
    }
    const running = new Set<string>();
    for (const obs of reading.running) {
      running.add(obs.container_id);
      const o = this.open.get(obs.container_id);
      if (!o) {
        const start = this.resumeFrom.get(obs.container_id) ?? obs.started_at_ms ?? nowMs;
        this.resumeFrom.delete(obs.container_id);
        // A start a little ahead of the agent's clock (the runtime's clock, read a few ms
        // earlier) is taken as it is: billing from `now` would bill time before the start.
        // One far ahead is not believed.
        const startMs = start - nowMs > MAX_START_AHEAD_MS ? nowMs : start;
        this.open.set(obs.container_id, { observation: obs, startMs });
      } else if (obs.gpu_count !== o.observation.gpu_count || obs.gpu_type !== o.observation.gpu_type) {
        this.emitUpTo(o, nowMs, events, true);
        o.observation = obs;
      } else {
        o.observation = obs;
      }
    }
    // A container no longer reported, without an explicit stop: it ended by now (unless its
    // state could not be read this time).
    const unreadable = new Set(reading.unreadable ?? []);
    for (const [id, o] of this.open) {
      if (!running.has(id) && !unreadable.has(id)) {
        this.emitUpTo(o, nowMs, events, true);
        this.open.delete(id);
      }
    }
    for (const o of this.open.values()) this.emitUpTo(o, nowMs, events, false);
    return events;
  }

  /** Closes every open interval at `nowMs` (agent shutdown). */
  closeAll(nowMs: number): UsageCloudEvent[] {
    const events: UsageCloudEvent[] = [];
    for (const o of this.open.values()) this.emitUpTo(o, nowMs, events, true);
    return events;
  }

  /** Emits whole intervals up to `endMs`, and with `partial` the remainder too. */
  private emitUpTo(o: OpenInterval, endMs: number, out: UsageCloudEvent[], partial: boolean): void {
    while (endMs - o.startMs >= this.intervalMs) {
      out.push(this.event(o.observation, o.startMs, o.startMs + this.intervalMs));
      o.startMs += this.intervalMs;
    }
    if (partial && endMs > o.startMs) {
      out.push(this.event(o.observation, o.startMs, endMs));
      o.startMs = endMs;
    }
  }

  private event(obs: ContainerObservation, startMs: number, endMs: number): UsageCloudEvent {
    const data: UsageCloudEvent['data'] = {
      container_id: obs.container_id,
      app_id: obs.app_id,
      gpu_type: obs.gpu_type,
      gpu_count: obs.gpu_count,
      started_at: new Date(startMs).toISOString(),
      ended_at: new Date(endMs).toISOString(),
    };
    if (obs.function_id !== undefined) data.function_id = obs.function_id;
    if (obs.cpu_millicores !== undefined) data.cpu_millicores = obs.cpu_millicores;
    if (obs.memory_mib !== undefined) data.memory_mib = obs.memory_mib;
    if (obs.region !== undefined) data.region = obs.region;
    if (obs.provider !== undefined) data.provider = obs.provider;
    return {
      specversion: '1.0',
      id: intervalEventId(obs.container_id, startMs),
      source: this.agentSource,
      type: 'gpu.usage.v1',
      subject: obs.workspace_id,
      time: data.ended_at,
      datacontenttype: 'application/json',
      data,
    };
  }
}
