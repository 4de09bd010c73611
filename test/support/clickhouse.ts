import { createClient } from '@clickhouse/client';

/** A direct ClickHouse reader for assertions, independent of the service's own code. */
export function chReader(env: Record<string, string>) {
  const client = createClient({ url: env.CLICKHOUSE_URL, database: env.CLICKHOUSE_DATABASE });
  return {
    async one<T>(query: string): Promise<T> {
      const rows = await (await client.query({ query, format: 'JSONEachRow' })).json<T>();
      return rows[0];
    },
    async command(query: string): Promise<void> {
      await client.command({ query });
    },
    async all<T>(query: string): Promise<T[]> {
      return (await client.query({ query, format: 'JSONEachRow' })).json<T>();
    },
    /** Exact totals: raw events, raw GPU-ms, hourly GPU-ms, hourly event count, duplicate keys. */
    async totals(workspace?: string) {
      const where = workspace ? `WHERE workspace_id = '${workspace.replace(/[\\']/g, '\\$&')}'` : '';
      const raw = await this.one<{ n: string; gpu_ms: string }>(
        `SELECT count() AS n, sum(gpu_ms) AS gpu_ms FROM usage_events ${where}`,
      );
      const hourly = await this.one<{ n: string; gpu_ms: string }>(
        `SELECT sum(events) AS n, sum(gpu_ms) AS gpu_ms FROM usage_hourly ${where}`,
      );
      const dup = await this.one<{ d: string }>(
        `SELECT count() AS d FROM (SELECT source, id FROM usage_events ${where} GROUP BY source, id HAVING count() > 1)`,
      );
      return {
        rawEvents: BigInt(raw.n),
        rawGpuMs: BigInt(raw.gpu_ms),
        hourlyEvents: BigInt(hourly.n),
        hourlyGpuMs: BigInt(hourly.gpu_ms),
        duplicateKeys: BigInt(dup.d),
      };
    },
    close: () => client.close(),
  };
}

/**
 * Whether at least `n` events are stored, in the raw table and in the hourly rollups alike.
 * ClickHouse 18.16 makes an insert's raw part visible before its materialized view's part,
 * so a reader can briefly see raw rows whose rollup is still being written; tests wait for both
 * before comparing exact totals.
 */
export function stored(t: { rawEvents: bigint; hourlyEvents: bigint }, n: bigint): boolean {
  return t.rawEvents >= n && t.hourlyEvents >= n;
}

/** Every projection, read in a fixed order, for comparing two databases. */
export async function projectionSnapshot(ch: ReturnType<typeof chReader>) {
  const q = <T>(sql: string) => ch.all<T>(sql);
  return {
    usageEvents: await q(
      'SELECT count() AS n, sum(gpu_ms) AS gpu, sum(cpu_millicore_ms) AS cpu, sum(memory_mib_ms) AS mem, uniqExact(source, id) AS keys FROM usage_events',
    ),
    hourly: await q(
      `SELECT workspace_id, hour, gpu_type, app_id, function_id, region, sum(gpu_ms) AS gpu, sum(cpu_millicore_ms) AS cpu,
              sum(memory_mib_ms) AS mem, sum(events) AS events
       FROM usage_hourly GROUP BY workspace_id, hour, gpu_type, app_id, function_id, region
       ORDER BY workspace_id, hour, gpu_type, app_id, function_id, region`,
    ),
    workspaces: await q('SELECT * FROM workspaces FINAL ORDER BY id'),
    plans: await q('SELECT * FROM workspace_plans FINAL ORDER BY workspace_id, effective_from_ms, event_id'),
    budgets: await q('SELECT * FROM workspace_budgets FINAL ORDER BY workspace_id'),
    catalog: await q('SELECT * FROM catalog_changes FINAL ORDER BY event_id'),
    invoices: await q(
      'SELECT workspace_id, period, id, finalized, version, document FROM invoice_documents FINAL ORDER BY id',
    ),
    statuses: await q('SELECT * FROM invoice_status_events FINAL ORDER BY invoice_id, event_id'),
    closed: await q('SELECT period, run_id FROM closed_periods FINAL ORDER BY period'),
    runs: await q('SELECT id, version, state FROM invoice_runs FINAL ORDER BY id'),
    customers: await q('SELECT * FROM stripe_customers FINAL ORDER BY workspace_id'),
    billingEvents: await q('SELECT uniqExact(id) AS n FROM billing_events'),
  };
}
