/**
 * npm run bench:dashboard — what the dashboard's API calls cost on a big table (issue 13):
 * 10 M usage events in ClickHouse, 2 M of them one workspace's: 50 apps × 9 GPU types, every
 * hour from the start of last month until now (the issue's shape); each app runs one of its 5
 * functions in a given hour (250 functions in all); the other 8 M spread over 99 workspaces. The events go straight into `usage_events` with one INSERT … SELECT (the hourly
 * rollups follow through the materialized view, as in production): it is the read path that
 * is measured here, and bench:ingest measures the write path.
 *
 * Then, against the compiled service (`serve --role all`): every call the page makes for a
 * month — this month and last month — one at a time (latency p50/p95), and the page's load of
 * a month as the page makes it (whoami, invoices, then the month's calls at once). Beside them:
 * ClickHouse's own time for the month's day × GPU type rollup query (the ceiling under the
 * usage call) and GET /v1/me (the floor of any authenticated call: HTTP, auth, JSON).
 * Options: --events N (default 10,000,000), --repeat N (default 40), --keep 1.
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
const REPEAT = arg('--repeat', 40);
/** --keep 1: leave the database in place afterwards (to look into a query). */
const KEEP = arg('--keep', 0) === 1;
const TARGET = 'dash-target';
const TARGET_EVENTS = Math.floor(EVENTS / 5);
const APPS = 50;
const FUNCTIONS = 5;
const log = (s: string) => process.stderr.write(`[bench:dashboard] ${s}\n`);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

function monthStartMs(ms: number, back = 0): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - back, 1);
}

/**
 * Fills `usage_events` with EVENTS events of 30 s inside one hour each, in slices of a million
 * (one INSERT … SELECT each). The first TARGET_EVENTS are the benchmark workspace's: event n is
 * app a = n mod 50, GPU type ⌊n/50⌋ mod 9, hour h = ⌊n/450⌋ mod H, function (h + a) mod 5.
 */
async function fill(env: Record<string, string>, fromMs: number, hours: number): Promise<number> {
  const ch = createClient({
    url: env.CLICKHOUSE_URL,
    database: env.CLICKHOUSE_DATABASE,
    request_timeout: 600_000,
  });
  const types = `[${SEED_GPU_TYPES.map((t) => `'${t}'`).join(',')}]`;
  const from = fromMs / 1000;
  const t0 = performance.now();
  const slice = 1_000_000;
  for (let offset = 0; offset < EVENTS; offset += slice) {
    const n = Math.min(slice, EVENTS - offset);
    await ch.command({
      query: `
        INSERT INTO usage_events (workspace_id, source, id, container_id, app_id, function_id, region, provider,
          gpu_type, gpu_count, cpu_millicores, memory_mib, started_at, ended_at, started_at_ms, ended_at_ms,
          gpu_ms, cpu_millicore_ms, memory_mib_ms, ingested_at_ms, kafka_partition, kafka_offset)
        SELECT ws, 'agent://bench', concat('ev_', toString(n)), concat('ct_', toString(n)), app, fn, 'us-east', 'oci',
               arrayElement(${types}, type + 1), gpus, toUInt32(gpus) * 2000, toUInt32(gpus) * 16384,
               toDateTime(intDiv(start_ms, 1000)), toDateTime(intDiv(start_ms + 30000, 1000)), start_ms, start_ms + 30000,
               toUInt64(gpus) * 30000, toUInt64(gpus) * 2000 * 30000, toUInt64(gpus) * 16384 * 30000,
               toUInt64(0), toUInt32(0), n
        FROM (
          SELECT number + ${offset} AS n,
                 n < ${TARGET_EVENTS} AS mine,
                 if(mine, '${TARGET}', concat('ws_', toString(n % 99))) AS ws,
                 if(mine, concat('app_', toString(n % ${APPS})), concat('app_', toString(n % 7))) AS app,
                 if(mine, concat('fn_', toString((h + n % ${APPS}) % ${FUNCTIONS})), 'fn_0') AS fn,
                 if(mine, intDiv(n, ${APPS}) % 9, n % 9) AS type,
                 if(mine, intDiv(n, ${APPS * 9}) % ${hours}, intDiv(n, 99) % ${hours}) AS h,
                 toUInt64(${from} + h * 3600 + (n % 59) * 60) * 1000 AS start_ms,
                 toUInt8(1 + n % 8) AS gpus
          FROM numbers(${n}))`,
    });
    log(
      `filled ${fmt(offset + n)} of ${fmt(EVENTS)} events (${((performance.now() - t0) / 1000).toFixed(0)} s)`,
    );
  }
  const [{ raw, hourly }] = await (
    await ch.query({
      query: `SELECT toString((SELECT count() FROM usage_events)) AS raw, toString((SELECT sum(events) FROM usage_hourly)) AS hourly`,
      format: 'JSONEachRow',
    })
  ).json<{ raw: string; hourly: string }>();
  if (raw !== String(EVENTS) || hourly !== String(EVENTS))
    throw new Error(`filled ${raw} raw, ${hourly} in rollups`);
  await ch.close();
  return (performance.now() - t0) / 1000;
}

type Stats = ReturnType<typeof latencyStats>;
const stats = latencyStats;

async function timedGet(url: string, key: string): Promise<[number, unknown]> {
  const t0 = performance.now();
  const res = await fetch(url, { headers: { authorization: `Bearer ${key}` } });
  const body = (await res.json()) as unknown;
  const ms = performance.now() - t0;
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status} ${JSON.stringify(body)}`);
  return [ms, body];
}

async function main() {
  const env = await benchEnv('dash');
  const now = Date.now();
  const lastStart = monthStartMs(now, 1);
  const currentStart = monthStartMs(now);
  const hours = Math.floor((now - lastStart) / 3_600_000) - 1; // whole hours, all in the past
  log(
    `${fmt(EVENTS)} events, ${fmt(TARGET_EVENTS)} of them ${TARGET}'s over ${hours} hours; ${cpus().length} cores`,
  );
  const fillSeconds = await fill(env, lastStart, hours);
  const svc = await new ServiceProc({ ...env, INVOICE_SCHEDULER_INTERVAL_SECONDS: '0' }, 'all').start();
  const base = `http://127.0.0.1:${svc.port}`;
  try {
    const created = await fetch(`${base}/v1/workspaces`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: TARGET, name: 'Dashboard bench', email: 'dash@bench.test', plan: 'team' }),
    });
    const key = ((await created.json()) as { api_key: string }).api_key;
    if (!created.ok || !key) throw new Error(`workspace: HTTP ${created.status}`);
    for (let i = 0; i < 100; i++) {
      const me = await fetch(`${base}/v1/me`, { headers: { authorization: `Bearer ${key}` } });
      if (me.ok) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await fetch(`${base}/v1/workspaces/${TARGET}/budget`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ monthly_limit: '5000000.00', thresholds: [50, 80, 100] }),
    });

    const iso = (ms: number) => new Date(ms).toISOString();
    const period = (ms: number) => iso(ms).slice(0, 7);
    const months = {
      'this month': { q: `from=${iso(currentStart)}`, period: period(currentStart), current: true },
      'last month': {
        q: `from=${iso(lastStart)}&to=${iso(currentStart)}`,
        period: period(lastStart),
        current: false,
      },
    };
    const callsOf = (m: (typeof months)['this month']): Record<string, string> => ({
      'GET /v1/usage (day × GPU type)': `/v1/usage?${m.q}&window=day&group_by=gpu_type`,
      'GET /v1/usage/breakdown by app': `/v1/usage/breakdown?${m.q}&by=app_id&limit=20`,
      'GET /v1/usage/breakdown by function': `/v1/usage/breakdown?${m.q}&by=function_id&limit=20`,
      'GET …/budget/alerts': `/v1/workspaces/${TARGET}/budget/alerts?period=${m.period}`,
      ...(m.current
        ? {
            'GET /v1/spend/current': '/v1/spend/current',
            'GET /v1/invoices/upcoming': '/v1/invoices/upcoming',
          }
        : {}),
    });

    // Each call alone, REPEAT times after 3 warm-ups.
    const perCall: Record<string, Stats> = {};
    const shapes: Record<string, string> = {};
    for (const [label, m] of Object.entries(months))
      for (const [name, path] of Object.entries({
        'GET /v1/me': '/v1/me',
        'GET /v1/invoices': '/v1/invoices',
        ...callsOf(m),
      })) {
        const xs: number[] = [];
        let body: unknown;
        for (let i = 0; i < REPEAT + 3; i++) {
          const [ms, b] = await timedGet(`${base}${path}`, key);
          body = b;
          if (i >= 3) xs.push(ms);
        }
        const b = body as { rows?: unknown[]; other?: { count: number } | null };
        shapes[`${label}: ${name}`] = Array.isArray(b.rows)
          ? `${b.rows.length} rows${b.other ? ` + other (${b.other.count})` : ''}`
          : '';
        perCall[`${label}: ${name}`] = stats(xs);
        log(
          `${label}: ${name}: p50 ${fmtMs(perCall[`${label}: ${name}`].p50)} ms, p95 ${fmtMs(perCall[`${label}: ${name}`].p95)} ms ${shapes[`${label}: ${name}`]}`,
        );
      }

    // A month's load as the page makes it: who am I, the invoices, then the month's calls at once.
    const pageLoads: Record<string, Stats> = {};
    for (const [label, m] of Object.entries(months)) {
      const xs: number[] = [];
      for (let i = 0; i < Math.ceil(REPEAT / 2) + 2; i++) {
        const t0 = performance.now();
        await timedGet(`${base}/v1/me`, key);
        await timedGet(`${base}/v1/invoices`, key);
        await Promise.all(Object.values(callsOf(m)).map((p) => timedGet(`${base}${p}`, key)));
        if (i >= 2) xs.push(performance.now() - t0);
      }
      pageLoads[label] = stats(xs);
      log(
        `page load, ${label}: p50 ${fmtMs(pageLoads[label].p50)} ms, p95 ${fmtMs(pageLoads[label].p95)} ms`,
      );
    }

    // The ceiling under the usage call: ClickHouse's own time for its rollup query (last month).
    const ch = createClient({ url: env.CLICKHOUSE_URL, database: env.CLICKHOUSE_DATABASE });
    const rollupQuery = `SELECT intDiv(toUInt32(hour), 86400) * 86400 AS day, gpu_type, sum(gpu_ms), sum(cpu_millicore_ms),
        sum(memory_mib_ms), sum(events) FROM usage_hourly WHERE workspace_id = '${TARGET}'
        AND hour >= toDateTime(${lastStart / 1000}) AND hour < toDateTime(${currentStart / 1000}) GROUP BY day, gpu_type`;
    const chTimes: number[] = [];
    for (let i = 0; i < REPEAT + 3; i++) {
      const t0 = performance.now();
      await (await ch.query({ query: rollupQuery, format: 'JSONEachRow' })).json();
      if (i >= 3) chTimes.push(performance.now() - t0);
    }
    const [{ rows: hourlyRows }] = await (
      await ch.query({ query: `SELECT toString(count()) AS rows FROM usage_hourly`, format: 'JSONEachRow' })
    ).json<{ rows: string }>();
    await ch.close();
    const clickhouseCeiling = stats(chTimes);
    log(`ClickHouse alone, last month's day × GPU type rollup: p50 ${fmtMs(clickhouseCeiling.p50)} ms`);

    const date = new Date().toISOString();
    const worstMonthP95 = Math.max(
      ...Object.entries(perCall)
        .filter(([k]) => !k.endsWith('GET /v1/me'))
        .map(([, s]) => s.p95),
    );
    const lines = [
      `Run ${date.slice(0, 16).replace('T', ' ')} UTC on this machine (${cpus().length} cores, the whole stack on it): ` +
        `\`npm run bench:dashboard -- --events ${EVENTS} --repeat ${REPEAT}\`. ${fmt(EVENTS)} events in \`usage_events\` ` +
        `(${fmt(Number(hourlyRows))} rows in \`usage_hourly\`), ${fmt(TARGET_EVENTS)} of them one workspace's: ${APPS} apps × ` +
        `9 GPU types, every hour from the start of last month until now, each app running one of its ${FUNCTIONS} functions an hour (filled in ${fillSeconds.toFixed(0)} s ` +
        `by INSERT … SELECT; the rollups through the materialized view). Each call ${REPEAT} times one after another after 3 warm-ups; ` +
        `latencies in ms, measured by the client, HTTP included.`,
      '',
      '| month | call | p50 | p95 | max | answer |',
      '|---|---|---:|---:|---:|---|',
      ...Object.entries(perCall).map(([k, s]) => {
        const [month, call] = k.split(': ');
        return `| ${month} | ${call} | ${fmtMs(s.p50)} | ${fmtMs(s.p95)} | ${fmtMs(s.max)} | ${shapes[k]} |`;
      }),
      '',
      `Target p95 < 100 ms for the month's queries: worst p95 ${fmtMs(worstMonthP95)} ms — ${worstMonthP95 < 100 ? 'met' : 'missed'}.`,
      '',
      "| a month's load as the page makes it (whoami, invoices, then the month's calls at once) | p50 | p95 | max |",
      '|---|---:|---:|---:|',
      ...Object.entries(pageLoads).map(
        ([k, s]) => `| ${k} | ${fmtMs(s.p50)} | ${fmtMs(s.p95)} | ${fmtMs(s.max)} |`,
      ),
      '',
      `Target under 1 s: worst p95 ${fmtMs(Math.max(...Object.values(pageLoads).map((s) => s.p95)))} ms — ` +
        `${Math.max(...Object.values(pageLoads).map((s) => s.p95)) < 1000 ? 'met' : 'missed'}.`,
      '',
      `Beside them: ClickHouse alone answers last month's day × GPU type rollup query (the one under GET /v1/usage) in ` +
        `p50 ${fmtMs(clickhouseCeiling.p50)} ms, p95 ${fmtMs(clickhouseCeiling.p95)} ms (over HTTP from this process); ` +
        `GET /v1/me, the floor of any authenticated call, p50 ${fmtMs(perCall['this month: GET /v1/me'].p50)} ms.`,
    ];
    writeBenchResult('dashboard', "Dashboard: a month's API calls on 10 M events (issue 13)", lines, {
      date,
      events: EVENTS,
      targetEvents: TARGET_EVENTS,
      hourlyRows: Number(hourlyRows),
      fillSeconds,
      perCall,
      shapes,
      pageLoads,
      clickhouseCeiling,
    });
    log('BENCHMARKS.md updated');
  } finally {
    await svc.stop();
    if (KEEP) log(`kept ${env.CLICKHOUSE_DATABASE}`);
    else await dropBenchEnv(env);
  }
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
