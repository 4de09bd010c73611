/** What a usage source knows about one container holding GPUs. */
export interface ContainerObservation {
  container_id: string;
  workspace_id: string;
  app_id: string;
  function_id?: string;
  gpu_type: string;
  gpu_count: number;
  cpu_millicores?: number;
  memory_mib?: number;
  region?: string;
  provider?: string;
  /** When it started holding GPUs (agent time, ms), when the source knows it. */
  started_at_ms?: number;
}

export interface SourceReading {
  running: ContainerObservation[];
  /**
   * Containers that stopped since the previous reading, with their stop time when known.
   * A source that knows the whole container (e.g. one that started and stopped while the
   * agent was down) adds its observation, so that it is billed too.
   */
  stopped: Array<{ container_id: string; stopped_at_ms?: number; observation?: ContainerObservation }>;
  /**
   * Containers whose state could not be read this time (a label file caught mid-write):
   * neither closed nor changed; an open interval of theirs simply stays open.
   */
  unreadable?: string[];
}

/** A source of container usage: the simulator, nvidia-smi, or a host runtime embedding the agent. */
export interface UsageSource {
  /** The containers running at `nowMs`, and those that stopped in (`sinceMs`, `nowMs`]. */
  read(sinceMs: number, nowMs: number): Promise<SourceReading> | SourceReading;
  /**
   * Called once the events of a reading are durable in the spool, with the containers that
   * reading reported stopped: a source may then forget them (the label source deletes their
   * files). Not called while events wait in memory for a full spool.
   */
  settle?(stoppedContainerIds: readonly string[]): Promise<void>;
}
