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
