/* eslint-disable @typescript-eslint/no-explicit-any -- test data is mutated freely */
/** A valid usage event ending `endedAtMs`, for tests and benchmarks. */
export function sampleUsageEvent(endedAtMs: number, overrides: Record<string, unknown> = {}): any {
  const started = endedAtMs - 5123;
  const e: any = {
    specversion: '1.0',
    id: `ct_9f2c:${started}`,
    source: 'agent://gpu-host-17',
    type: 'gpu.usage.v1',
    subject: 'ws_acme',
    time: new Date(endedAtMs).toISOString(),
    datacontenttype: 'application/json',
    data: {
      container_id: 'ct_9f2c',
      app_id: 'app_llm',
      function_id: 'fn_generate',
      gpu_type: 'H100',
      gpu_count: 8,
      started_at: new Date(started).toISOString(),
      ended_at: new Date(endedAtMs).toISOString(),
      cpu_millicores: 4000,
      memory_mib: 32768,
      region: 'us-east',
      provider: 'oci',
    },
  };
  for (const [path, value] of Object.entries(overrides)) {
    const parts = path.split('.');
    const target = parts.length === 2 ? e[parts[0]] : e;
    const key = parts[parts.length - 1];
    if (value === undefined) delete target[key];
    else target[key] = value;
  }
  return e;
}
