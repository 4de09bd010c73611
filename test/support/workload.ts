/**
 * Synthetic usage events with their expected totals computed here, independently of the
 * service (plain integer arithmetic on what was generated).
 */
export const GPU_TYPES = ['T4', 'L4', 'A10G', 'L40S', 'A100-40GB', 'A100-80GB', 'H100', 'H200', 'B200'];

export interface GeneratedEvent {
  specversion: '1.0';
  id: string;
  source: string;
  type: 'gpu.usage.v1';
  subject: string;
  time: string;
  data: Record<string, unknown>;
}

export function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s / 2 ** 32;
  };
}

export function generateEvents(opts: {
  count: number;
  workspaces: string[];
  seed?: number;
  endBeforeMs?: number;
  source?: string;
}): { events: GeneratedEvent[]; expectedGpuMs: Map<string, bigint> } {
  const r = rng(opts.seed ?? 1);
  const end = opts.endBeforeMs ?? Date.now() - 60_000;
  const events: GeneratedEvent[] = [];
  const expected = new Map<string, bigint>();
  for (let i = 0; i < opts.count; i++) {
    const ws = opts.workspaces[i % opts.workspaces.length];
    const container = `ct_${ws}_${Math.floor(r() * 50)}`;
    const endedAt = end - Math.floor(r() * 3 * 86_400_000);
    const duration = 1 + Math.floor(r() * 3_600_000);
    const startedAt = endedAt - duration;
    const gpuCount = 1 + Math.floor(r() * 8);
    events.push({
      specversion: '1.0',
      id: `${container}:${startedAt}:${i}`,
      source: opts.source ?? `agent://host-${i % 7}`,
      type: 'gpu.usage.v1',
      subject: ws,
      time: new Date(endedAt).toISOString(),
      data: {
        container_id: container,
        app_id: `app_${Math.floor(r() * 5)}`,
        function_id: `fn_${Math.floor(r() * 3)}`,
        gpu_type: GPU_TYPES[Math.floor(r() * GPU_TYPES.length)],
        gpu_count: gpuCount,
        started_at: new Date(startedAt).toISOString(),
        ended_at: new Date(endedAt).toISOString(),
        cpu_millicores: Math.floor(r() * 8000),
        memory_mib: Math.floor(r() * 65536),
        region: 'us-east',
        provider: 'oci',
      },
    });
    expected.set(ws, (expected.get(ws) ?? 0n) + BigInt(gpuCount) * BigInt(duration));
  }
  return { events, expectedGpuMs: expected };
}

export const sum = (m: Map<string, bigint>) => [...m.values()].reduce((a, b) => a + b, 0n);

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T>,
  done: (v: T) => boolean,
  timeoutMs = 120_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    try {
      last = await probe();
      if (done(last)) return last;
    } catch {
      /* the thing probed may be restarting */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(
    `timed out waiting for ${what}; last value: ${String(JSON.stringify(last, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)))}`,
  );
}
