/**
 * npm run bench:margin — what GET /v1/reports/margin costs on a big month (issue 15, part 3):
 * N usage events in last month (default 10,000,000): 100 workspaces, 3 providers (one never
 * costed), 9 GPU types, 3 regions, events of 30 s spread over the month, inserted straight into
 * `usage_events` with INSERT … SELECT (the rollups follow through the materialized view). Two
 * cost changes, one inside the month. Then, against the compiled service, the report grouped by
 * provider × GPU type × region, REPEAT times after 2 warm-ups (client-side latency, HTTP
 * included), and beside it the ceiling: ClickHouse alone scanning the month's raw events once,
 * grouped the same way (the report's one raw read).
 * Options: --events N (default 10,000,000), --repeat N (default 10).
 */
import { createClient } from '@clickhouse/client';
import { cpus } from 'node:os';
import { SEED_GPU_TYPES } from '../src/catalog/gpu-types';
import {
  ADMIN_KEY,
  arg,
  benchEnv,
  dropBenchEnv,
  fmtMs,
  latencyStats,
  ServiceProc,
  writeBenchResult,
} from './bench-support';

const EVENTS = arg('--events', 10_000_000);
const REPEAT = arg('--repeat', 10);
const log = (s: string) => process.stderr.write(`[bench:margin] ${s}\n`);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function main() {
  const env = await benchEnv('margin');
  const now = new Date();
  const start = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1);
  const end = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
  const period = new Date(start).toISOString().slice(0, 7);
  const ch = createClient({
    url: env.CLICKHOUSE_URL,
    database: env.CLICKHOUSE_DATABASE,
    request_timeout: 600_000,
  });
  const types = `[${SEED_GPU_TYPES.map((t) => `'${t}'`).join(',')}]`;
  const spanS = (end - start) / 1000 - 60;
  const t0 = performance.now();
  for (let offset = 0; offset < EVENTS; offset += 1_000_000) {
    const n = Math.min(1_000_000, EVENTS - offset);
    await ch.command({
      query: `
        INSERT INTO usage_events (workspace_id, source, id, container_id, app_id, function_id, region, provider,
          gpu_type, gpu_count, cpu_millicores, memory_mib, started_at, ended_at, started_at_ms, ended_at_ms,
          gpu_ms, cpu_millicore_ms, memory_mib_ms, ingested_at_ms, kafka_partition, kafka_offset)
        SELECT concat('ws_', toString(n % 100)), 'agent://bench', concat('ev_', toString(n)), concat('ct_', toString(n)),
               'app', 'fn', arrayElement(['us-east', 'eu-west', 'ap-south'], intDiv(n, 9) % 3 + 1),
               arrayElement(['oci', 'aws', 'lambda'], intDiv(n, 27) % 3 + 1), arrayElement(${types}, n % 9 + 1),
               gpus, toUInt32(gpus) * 2000, toUInt32(gpus) * 16384,
               toDateTime(intDiv(s, 1000)), toDateTime(intDiv(s + 30000, 1000)), s, s + 30000,
               toUInt64(gpus) * 30000, toUInt64(gpus) * 2000 * 30000, toUInt64(gpus) * 16384 * 30000,
               s + 30500, toUInt32(0), n
        FROM (SELECT number + ${offset} AS n, toUInt8(n % 8 + 1) AS gpus,
                     toUInt64(${start} + (cityHash64(n) % ${spanS}) * 1000) AS s
              FROM system.numbers LIMIT ${n})`,
    });
  }
  const fillSeconds = (performance.now() - t0) / 1000;
  log(`${fmt(EVENTS)} events in ${fillSeconds.toFixed(0)} s; ${cpus().length} cores`);
  const svc = await new ServiceProc({ ...env, INVOICE_SCHEDULER_INTERVAL_SECONDS: '0' }, 'all').start();
  const base = `http://127.0.0.1:${svc.port}`;
  const post = async (path: string, body: unknown) => {
    const r = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!r.ok) throw new Error(`${path}: HTTP ${r.status} ${await r.text()}`);
  };
  try {
    const gpu = Object.fromEntries(SEED_GPU_TYPES.map((t, i) => [t, `0.000${100 + i * 50}`]));
    for (const provider of ['oci', 'aws'])
      await post('/v1/catalog/cost-changes', {
        effective_from: new Date(start - 86_400_000).toISOString(),
        provider,
        gpu_per_second: gpu,
        cpu_per_core_second: '0',
        memory_per_gib_second: '0',
      });
    await post('/v1/catalog/cost-changes', {
      effective_from: new Date(start + 14 * 86_400_000 + 1_800_000).toISOString(),
      provider: 'oci',
      gpu_per_second: { H100: '0.00055' },
    });
    const url = `${base}/v1/reports/margin?period=${period}&group_by=provider,gpu_type,region`;
    const xs: number[] = [];
    let rows = 0;
    for (let i = 0; i < REPEAT + 2; i++) {
      const t = performance.now();
      const res = await fetch(url, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      const body = (await res.json()) as { rows: unknown[] };
      if (!res.ok) throw new Error(`${url}: HTTP ${res.status} ${JSON.stringify(body)}`);
      if (i >= 2) xs.push(performance.now() - t);
      rows = body.rows.length;
    }
    const report = latencyStats(xs);
    log(`report: p50 ${fmtMs(report.p50)} ms, p95 ${fmtMs(report.p95)} ms, ${rows} rows`);
    const scan = `SELECT provider, gpu_type, region, workspace_id, sum(gpu_ms), sum(cpu_millicore_ms), sum(memory_mib_ms)
      FROM usage_events WHERE ended_at >= toDateTime(${start / 1000}) AND ended_at < toDateTime(${end / 1000 + 3601})
      GROUP BY provider, gpu_type, region, workspace_id`;
    const cs: number[] = [];
    for (let i = 0; i < REPEAT + 2; i++) {
      const t = performance.now();
      await (await ch.query({ query: scan, format: 'JSONEachRow' })).json();
      if (i >= 2) cs.push(performance.now() - t);
    }
    const ceiling = latencyStats(cs);
    // The report's own raw read (UsageEventsRepository.sumByProvider): each event clipped to each
    // piece of the month (here two: the cost change cuts it), grouped per piece.
    const cut = start + 14 * 86_400_000 + 1_800_000;
    const clip =
      '(least(ended_at_ms, tupleElement(piece, 3)) - greatest(started_at_ms, tupleElement(piece, 2)))';
    const piecewise = `SELECT tupleElement(piece, 1) AS p, workspace_id, provider, gpu_type, region,
        sum(toUInt64(gpu_count) * ${clip}), sum(toUInt64(cpu_millicores) * ${clip}), sum(toUInt64(memory_mib) * ${clip})
      FROM usage_events ARRAY JOIN [tuple(toUInt32(0), toUInt64(${start}), toUInt64(${cut})),
                                    tuple(toUInt32(1), toUInt64(${cut}), toUInt64(${end}))] AS piece
      WHERE ended_at >= toDateTime(${start / 1000}) AND ended_at < toDateTime(${end / 1000 + 3601})
        AND ended_at_ms > ${start} AND started_at_ms < ${end}
        AND ended_at_ms > tupleElement(piece, 2) AND started_at_ms < tupleElement(piece, 3)
      GROUP BY p, workspace_id, provider, gpu_type, region`;
    const ps: number[] = [];
    for (let i = 0; i < REPEAT + 2; i++) {
      const t = performance.now();
      await (await ch.query({ query: piecewise, format: 'JSONEachRow' })).json();
      if (i >= 2) ps.push(performance.now() - t);
    }
    const rawRead = latencyStats(ps);
    log(`ClickHouse alone, the report's raw read (per piece): p50 ${fmtMs(rawRead.p50)} ms`);
    log(`ClickHouse alone, one grouped scan of the month: p50 ${fmtMs(ceiling.p50)} ms`);
    const date = new Date().toISOString();
    writeBenchResult(
      'margin',
      'Margin report (issue 15)',
      [
        `Run ${date.slice(0, 16).replace('T', ' ')} UTC on this machine (${cpus().length} cores, the whole stack on it): ` +
          `\`npm run bench:margin -- --events ${EVENTS} --repeat ${REPEAT}\`. ${fmt(EVENTS)} events of last month in ` +
          `\`usage_events\` (100 workspaces, 3 providers — one never costed —, 9 GPU types, 3 regions; filled in ${fillSeconds.toFixed(0)} s ` +
          `by INSERT … SELECT), a cost change inside the month. GET /v1/reports/margin grouped by provider × GPU type × region ` +
          `(${rows} rows), ${REPEAT} times after 2 warm-ups; client-side latency, HTTP included.`,
        '',
        '| what | p50 ms | p95 ms | max ms |',
        '|---|---:|---:|---:|',
        `| GET /v1/reports/margin | ${fmtMs(report.p50)} | ${fmtMs(report.p95)} | ${fmtMs(report.max)} |`,
        `| ceiling: ClickHouse alone, one grouped scan of the month's raw events | ${fmtMs(ceiling.p50)} | ${fmtMs(ceiling.p95)} | ${fmtMs(ceiling.max)} |`,
        `| ClickHouse alone, the report's raw read (each event clipped to each of the month's 2 pieces) | ${fmtMs(rawRead.p50)} | ${fmtMs(rawRead.p95)} | ${fmtMs(rawRead.max)} |`,
        '',
        `The report reads the month's raw events once (they alone keep the provider) and computes the month's credits ` +
          `(the invoice calculator, from the rollups): ${(report.p50 / ceiling.p50).toFixed(1)}× the plain scan, ` +
          `${(report.p50 / rawRead.p50).toFixed(2)}× its own raw read, which is most of it (clipping each event to each ` +
          'piece doubles the rows ClickHouse handles). No target was set by the issue (a finance report, run a few ' +
          'times a month); src/reports/README.md says what was tried and what the lever would be.',
      ],
      { date, events: EVENTS, repeat: REPEAT, rows, report, ceiling, rawRead, fillSeconds },
    );
  } finally {
    await svc.stop();
    await ch.close();
    await dropBenchEnv(env);
  }
}

main().catch((e: Error) => {
  process.stderr.write(`${e.stack ?? e.message}\n`);
  process.exit(1);
});
