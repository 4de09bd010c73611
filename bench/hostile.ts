/**
 * npm run bench:hostile -- [--per-route N] [--concurrency N]
 *
 * Hostile HTTP requests to every route of a running service (test/support/hostile-requests.ts:
 * odd paths, repeated parameters, arbitrary bodies, deep nesting, lone surrogates, prototype
 * keys, every kind of token), N per route (default 2,000), C at a time (default 8). Reports
 * the answers by status (5xx must be 0), their latency per route (p50 / p99 / max), the
 * service's peak RSS, and beside it the ceiling: the same client sending GET /healthz, the
 * cheapest answer the service gives.
 */
import fc from 'fast-check';
import { cpus, totalmem } from 'node:os';
import { hostileRequest, HostileRequest, ROUTES, send } from '../test/support/hostile-requests';
import {
  ADMIN_KEY,
  AGENT_TOKEN,
  benchEnv,
  dropBenchEnv,
  ServiceProc,
  writeBenchResult,
  arg,
  fmtMs,
  latencyStats,
} from './bench-support';
import { forEachWithConcurrency } from '../src/platform/concurrency';

const PER_ROUTE = arg('--per-route', 2000);
const CONCURRENCY = arg('--concurrency', 8);

async function main() {
  const env = await benchEnv('hostile', 3);
  const svc = await new ServiceProc(
    { ...env, STRIPE_WEBHOOK_SECRET: 'whsec_benchhostile', INVOICE_SCHEDULER_INTERVAL_SECONDS: '0' },
    'all',
  ).start();
  const url = `http://127.0.0.1:${svc.port}`;
  try {
    const created = await fetch(`${url}/v1/workspaces`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'ws_hostile', name: 'Hostile', email: 'h@example.test' }),
    });
    const wsKey = ((await created.json()) as { api_key: string }).api_key;
    const tokens = {
      none: null,
      garbage: 'not-a-key-at-all',
      operator: ADMIN_KEY,
      agent: AGENT_TOKEN,
      workspace: wsKey,
    };

    // The ceiling: the cheapest answer there is, through the same client and concurrency.
    const probe: HostileRequest = {
      route: 'GET /healthz',
      method: 'GET',
      path: '/healthz',
      token: 'none',
      contentType: null,
      body: null,
    };
    const ceilingMs: number[] = [];
    const ceilingStart = performance.now();
    await forEachWithConcurrency(
      Array.from({ length: PER_ROUTE }, () => probe),
      CONCURRENCY,
      async (r) => {
        ceilingMs.push((await send(url, r, tokens)).ms);
      },
    );
    const ceilingRate = PER_ROUTE / ((performance.now() - ceilingStart) / 1000);

    // N hostile requests per route, generated with a fixed seed (the same requests every run).
    const byRoute = new Map<string, HostileRequest[]>(ROUTES.map(([m, p]) => [`${m} ${p}`, []]));
    for (const r of fc.sample(hostileRequest, { numRuns: PER_ROUTE * ROUTES.length * 3, seed: 12 })) {
      const list = byRoute.get(r.route)!;
      if (list.length < PER_ROUTE) list.push(r);
    }
    const all = [...byRoute.values()].flat();
    const results = new Map<string, { ms: number[]; statuses: Map<number, number> }>();
    const started = performance.now();
    await forEachWithConcurrency(all, CONCURRENCY, async (r) => {
      const { status, ms } = await send(url, r, tokens);
      const entry = results.get(r.route) ?? { ms: [] as number[], statuses: new Map<number, number>() };
      entry.ms.push(ms);
      entry.statuses.set(status, (entry.statuses.get(status) ?? 0) + 1);
      results.set(r.route, entry);
    });
    const seconds = (performance.now() - started) / 1000;
    const rss = svc.peakRssMiB();

    const statuses = new Map<number, number>();
    for (const { statuses: s } of results.values())
      for (const [k, v] of s) statuses.set(k, (statuses.get(k) ?? 0) + v);
    const fiveXX = [...statuses].filter(([s]) => s >= 500).reduce((a, [, n]) => a + n, 0);
    const overall = latencyStats([...results.values()].flatMap((r) => r.ms));
    const ceiling = latencyStats(ceilingMs);
    const date = new Date().toISOString();
    const lines = [
      `Last run: ${date}, ${cpus().length} cores (${cpus()[0]?.model.trim()}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; the service (role all), Kafka, ClickHouse and the client on this machine. ${PER_ROUTE.toLocaleString('en-US')} hostile requests per route, ${ROUTES.length} routes, ${CONCURRENCY} at a time (fixed seed).`,
      '',
      '| measurement | requests | 5xx | p50 / p99 / max (ms) | requests/s |',
      '| --- | --- | --- | --- | --- |',
      `| ceiling: GET /healthz, same client | ${PER_ROUTE.toLocaleString('en-US')} | 0 | ${fmtMs(ceiling.p50)} / ${fmtMs(ceiling.p99)} / ${fmtMs(ceiling.max)} | ${Math.round(ceilingRate).toLocaleString('en-US')} |`,
      `| every hostile request | ${all.length.toLocaleString('en-US')} | **${fiveXX}** | ${fmtMs(overall.p50)} / ${fmtMs(overall.p99)} / ${fmtMs(overall.max)} | ${Math.round(all.length / seconds).toLocaleString('en-US')} |`,
      '',
      `Answers by status: ${[...statuses]
        .sort(([a], [b]) => a - b)
        .map(([s, n]) => `${s} × ${n.toLocaleString('en-US')}`)
        .join(', ')}. Peak RSS of the service: ${rss} MiB.`,
      '',
      '| route | p50 / p99 / max (ms) | statuses |',
      '| --- | --- | --- |',
      ...[...results].map(([route, r]) => {
        const s = latencyStats(r.ms);
        return `| \`${route}\` | ${fmtMs(s.p50)} / ${fmtMs(s.p99)} / ${fmtMs(s.max)} | ${[...r.statuses]
          .sort(([a], [b]) => a - b)
          .map(([k, v]) => `${k}×${v}`)
          .join(' ')} |`;
      }),
    ];
    writeBenchResult('hostile', 'Hostile requests (npm run bench:hostile)', lines, {
      date,
      perRoute: PER_ROUTE,
      concurrency: CONCURRENCY,
      fiveXX,
      statuses: Object.fromEntries(statuses),
      overall,
      ceiling: { ...ceiling, rate: ceilingRate },
      peakRssMiB: rss,
      routes: Object.fromEntries(
        [...results].map(([k, r]) => [
          k,
          { ...latencyStats(r.ms), statuses: Object.fromEntries(r.statuses) },
        ]),
      ),
    });
    console.log(lines.join('\n'));
    if (fiveXX > 0) process.exitCode = 1;
  } finally {
    await svc.stop();
    await dropBenchEnv(env);
  }
}

void main();
