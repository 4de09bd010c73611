import { ADMIN_KEY, AGENT_TOKEN } from './test-env';
import type { GeneratedEvent } from './workload';

export async function api(
  baseUrl: string,
  method: string,
  path: string,
  token: string | null,
  body?: unknown,
  contentType = 'application/json',
) {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = contentType;
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are asserted field by field
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, body: json };
}

export async function createWorkspace(baseUrl: string, id: string): Promise<string> {
  const r = await api(baseUrl, 'POST', '/v1/workspaces', ADMIN_KEY, {
    id,
    name: `Workspace ${id}`,
    email: `${id}@example.test`,
  });
  if (r.status !== 201) throw new Error(`creating ${id}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.api_key as string;
}

/** Posts events in batches of `batch`; returns the accepted count. */
export async function postEvents(baseUrl: string, events: unknown[], batch = 1000): Promise<number> {
  let accepted = 0;
  for (let i = 0; i < events.length; i += batch) {
    const r = await api(baseUrl, 'POST', '/v1/events', AGENT_TOKEN, events.slice(i, i + batch));
    if (r.status !== 202)
      throw new Error(`POST /v1/events: ${r.status} ${JSON.stringify(r.body).slice(0, 500)}`);
    accepted += r.body.accepted as number;
  }
  return accepted;
}

/** GET /v1/usage's total GPU-ms for a workspace over the whole hours the events span. */
export async function usageGpuMs(baseUrl: string, key: string, events: GeneratedEvent[]): Promise<bigint> {
  const hourFloor = (ms: number) => Math.floor(ms / 3_600_000) * 3_600_000;
  const starts = events.map((e) => Date.parse(e.data.started_at as string));
  const ends = events.map((e) => Date.parse(e.data.ended_at as string));
  const from = new Date(hourFloor(Math.min(...starts))).toISOString();
  const to = new Date(hourFloor(Math.max(...ends)) + 3_600_000).toISOString();
  const r = await api(baseUrl, 'GET', `/v1/usage?from=${from}&to=${to}&window=day&group_by=gpu_type`, key);
  if (r.status !== 200) throw new Error(`GET /v1/usage: HTTP ${r.status}`);
  return BigInt(r.body.totals.gpu_ms);
}
