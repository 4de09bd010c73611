/** A usage CloudEvent as it arrives (contract §1). */
export interface UsageCloudEvent {
  specversion: '1.0';
  id: string;
  source: string;
  type: 'gpu.usage.v1';
  subject: string;
  time: string;
  datacontenttype?: string;
  data: {
    container_id: string;
    app_id: string;
    function_id?: string;
    gpu_type: string;
    gpu_count: number;
    started_at: string;
    ended_at: string;
    cpu_millicores?: number;
    memory_mib?: number;
    region?: string;
    provider?: string;
  };
}

/** A validated usage event with its times as epoch milliseconds and optional fields filled. */
export interface UsageRecord {
  workspace_id: string;
  source: string;
  id: string;
  container_id: string;
  app_id: string;
  function_id: string;
  region: string;
  provider: string;
  gpu_type: string;
  gpu_count: number;
  cpu_millicores: number;
  memory_mib: number;
  started_at_ms: number;
  ended_at_ms: number;
}

/** One reason an event was refused, naming the field (`data.gpu_count`, `time`, …). */
export interface FieldError {
  field: string;
  message: string;
}

export type UsageEventVerdict = { ok: true; record: UsageRecord } | { ok: false; errors: FieldError[] };

/** Billed quantity: gpu_count × duration, in integer GPU-milliseconds. */
export function gpuMilliseconds(r: Pick<UsageRecord, 'gpu_count' | 'started_at_ms' | 'ended_at_ms'>): number {
  return r.gpu_count * (r.ended_at_ms - r.started_at_ms);
}
