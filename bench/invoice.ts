/**
 * npm run bench:invoice — what invoicing costs:
 *   1. rating a month for 10,000 workspaces (no Stripe): the ClickHouse aggregation alone
 *      (the ceiling), the whole computation of every invoice document, and a run that drafts
 *      them all (events to Kafka, projections), with a price change mid-month;
 *      and the usage export of one week of that data;
 *   2. invoices pushed per second to localstripe at a given concurrency, beside the
 *      emulator's own request rate (the ceiling).
 * Options: --workspaces N (default 10000), --push-invoices N (default 200).
 */
import { cpus } from 'node:os';
import { NestFactory } from '@nestjs/core';
import { createClient } from '@clickhouse/client';
import Stripe from 'stripe';
import { appModule } from '../src/app.module';
import { CatalogService } from '../src/catalog/catalog.service';
import { SEED_GPU_TYPES } from '../src/catalog/gpu-types';
import { loadConfig } from '../src/app-config';
import { BillingPeriod } from '../src/invoicing/billing-period';
import { InvoiceCalculator } from '../src/invoicing/invoice-calculator.service';
import { InvoiceRunService } from '../src/invoicing/invoice-run.service';
import { UsageRollupsRepository } from '../src/metering/usage-rollups.repository';
import { USAGE_EXPORT_COLUMNS, UsageExportService } from '../src/exports/usage-export.service';
import { ReconciliationService } from '../src/reconciliation/reconciliation.service';
import { stringify } from 'csv-stringify/sync';
import { forEachWithConcurrency } from '../src/platform/concurrency';
import { StripeApiService } from '../src/stripe/stripe-api.service';
import { benchEnv, dropBenchEnv, median, writeBenchResult, arg } from './bench-support';

const WORKSPACES = arg('--workspaces', 10_000);
const PUSH_INVOICES = arg('--push-invoices', 200);
const ACTIVE_HOURS = 240; // of the month's 720: serverless usage comes in bursts
const SERIES = 3; // GPU type × app × function series per active hour
const LOCALSTRIPE = 'http://127.0.0.1:8420';
const log = (s: string) => process.stderr.write(`[bench:invoice] ${s}\n`);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const r = await fn();
  return [r, (performance.now() - t0) / 1000];
}

/**
 * Fills a month of usage straight into ClickHouse, plus plan assignments. `raw`: as raw
 * events of exactly one hour each (the rollups follow through the materialized view, as in
 * production, so a finalizing run's raw-vs-rollup check holds); otherwise rollup rows only
 * (enough for rating, much faster to fill).
 */
async function fillMonth(
  env: Record<string, string>,
  period: BillingPeriod,
  workspaces: number,
  raw: boolean,
) {
  const ch = createClient({ url: env.CLICKHOUSE_URL, database: env.CLICKHOUSE_DATABASE });
  const types = `[${SEED_GPU_TYPES.map((t) => `'${t}'`).join(',')}]`;
  const start = period.startMs / 1000;
  const series = `(SELECT number, intDiv(number, ${ACTIVE_HOURS * SERIES}) AS ws,
                   intDiv(number % ${ACTIVE_HOURS * SERIES}, ${SERIES}) AS h, number % ${SERIES} AS s,
                   ${start} + ((h * 3 + ws) % 720) * 3600 AS hour_start, toUInt8(1 + number % 8) AS gpus
            FROM numbers(${workspaces * ACTIVE_HOURS * SERIES}))`;
  await ch.command({
    query: raw
      ? `INSERT INTO usage_events (workspace_id, source, id, container_id, app_id, function_id, region, provider,
           gpu_type, gpu_count, cpu_millicores, memory_mib, started_at, ended_at, started_at_ms, ended_at_ms,
           gpu_ms, cpu_millicore_ms, memory_mib_ms, ingested_at_ms, kafka_partition, kafka_offset)
         SELECT concat('ws_', toString(ws)), 'agent://bench', concat('ct_', toString(number), ':', toString(hour_start)),
                concat('ct_', toString(number)), concat('app_', toString(s)), 'fn_0', 'us-east', 'oci',
                arrayElement(${types}, ((ws + s) % 9) + 1), gpus, toUInt32(gpus) * 2000, toUInt32(gpus) * 16384,
                toDateTime(hour_start), toDateTime(hour_start + 3600), toUInt64(hour_start) * 1000,
                toUInt64(hour_start + 3600) * 1000, toUInt64(gpus) * 3600000, toUInt64(gpus) * 2000 * 3600000,
                toUInt64(gpus) * 16384 * 3600000, toUInt64(0), toUInt32(0), number
         FROM ${series}`
      : `INSERT INTO usage_hourly
         SELECT concat('ws_', toString(ws)), toDateTime(hour_start), arrayElement(${types}, ((ws + s) % 9) + 1),
                concat('app_', toString(s)), 'fn_0', 'us-east', toUInt64(gpus) * 3600000,
                toUInt64(gpus) * 2000 * 3600000, toUInt64(gpus) * 16384 * 3600000, toUInt64(1)
         FROM ${series}`,
  });
  await ch.command({
    query: `INSERT INTO workspace_plans SELECT concat('ws_', toString(number)),
            if(number % 2 = 0, 'team', 'starter'), toUInt64(0), concat('bench-', toString(number))
            FROM numbers(${workspaces})`,
  });
  await ch.close();
}

async function context(env: Record<string, string>) {
  const config = loadConfig(env);
  const app = await NestFactory.createApplicationContext(appModule(config), { logger: ['error'] });
  return app;
}

async function ratingBench(period: BillingPeriod) {
  const env = await benchEnv('rate');
  try {
    // Raw events, so the hour a price change cuts has raw usage to be read from, as in production.
    log(`filling ${fmt(WORKSPACES * ACTIVE_HOURS * SERIES)} raw events for ${fmt(WORKSPACES)} workspaces`);
    const [, fillSeconds] = await timed(() => fillMonth(env, period, WORKSPACES, true));
    log(`filled in ${fillSeconds.toFixed(1)} s`);
    const app = await context({
      ...env,
      INVOICE_GRACE_HOURS: String(24 * 30),
      INVOICE_SCHEDULER_INTERVAL_SECONDS: '0',
    });
    try {
      const mid = period.startMs + 14 * 86_400_000 + 12 * 3_600_000;
      await app.get(CatalogService).changePrices({
        effective_from: new Date(mid).toISOString(),
        gpu_per_second: { H100: '0.001150' },
        cpu_per_core_second: '0.0000140',
      });
      // A second change inside an hour: that hour is read from the raw events, per piece.
      const cut = mid + 5 * 86_400_000 + 23 * 60_000 + 17_501;
      await app.get(CatalogService).changePrices({
        effective_from: new Date(cut).toISOString(),
        gpu_per_second: { A10G: '0.000311' },
      });
      const catalog = await app.get(CatalogService).load();
      const segments = catalog.segments(period.startMs, period.endMs).map((s) => s.from_ms);
      const wholeHourSegments = segments.filter((ms) => ms % 3_600_000 === 0);
      const rollups = app.get(UsageRollupsRepository);
      const calculator = app.get(InvoiceCalculator);
      const ceiling: number[] = [];
      const withCut: number[] = [];
      const compute: number[] = [];
      let rows = 0;
      let invoices = 0;
      const gpuMs = (rs: { gpu_ms: string }[]) => rs.reduce((a, r) => a + BigInt(r.gpu_ms), 0n);
      for (let i = 0; i < 3; i++) {
        const [r, s] = await timed(() =>
          rollups.sumForRating(period.startMs, period.endMs, wholeHourSegments),
        );
        rows = r.length;
        ceiling.push(s);
        const [rc, sc] = await timed(() => rollups.sumForRating(period.startMs, period.endMs, segments));
        withCut.push(sc);
        // The cut hour's pieces, read raw, add up to its rollup.
        if (gpuMs(rc) !== gpuMs(r)) throw new Error(`cut hour read raw: ${gpuMs(rc)} GPU-ms vs ${gpuMs(r)}`);
        const [docs, c] = await timed(() => calculator.compute(period));
        invoices = docs.length;
        compute.push(c);
        log(
          `run ${i + 1}: aggregation ${s.toFixed(2)} s (${fmt(rows)} rows), with the cut hour read raw ${sc.toFixed(2)} s, all invoices computed ${c.toFixed(2)} s`,
        );
      }
      // The usage export over a week of the same data: the ClickHouse reads alone (the ceiling),
      // then records rated and written as CSV (in process; HTTP adds only the socket).
      const weekFrom = period.startMs + 7 * 86_400_000;
      const weekTo = weekFrom + 7 * 86_400_000;
      const exporter = app.get(UsageExportService);
      const exportReads: number[] = [];
      const exportRuns: number[] = [];
      let exportRecords = 0;
      let exportBytes = 0;
      for (let i = 0; i < 3; i++) {
        const [, readSeconds] = await timed(async () => {
          for (let d = weekFrom; d < weekTo; d += 86_400_000)
            await rollups.spans(d, d + 86_400_000, segments);
        });
        exportReads.push(readSeconds);
        const [, exportSeconds] = await timed(async () => {
          exportRecords = 0;
          exportBytes = 0;
          for await (const batch of exporter.records(weekFrom, weekTo)) {
            exportRecords += batch.length;
            exportBytes += stringify(batch.map((r) => USAGE_EXPORT_COLUMNS.map((c) => r[c]))).length;
          }
        });
        exportRuns.push(exportSeconds);
        log(
          `usage export, one week: reads ${readSeconds.toFixed(2)} s, ${fmt(exportRecords)} records rated and written as CSV (${fmt(exportBytes / 1e6)} MB) ${exportSeconds.toFixed(2)} s`,
        );
      }
      // Reconciling the month (no Stripe): consumer lag, duplicate scan and rollup-vs-raw over
      // 7.2 M events, and every invoice computed again to compare with the drafts.
      const reconcileRuns: number[] = [];
      for (let i = 0; i < 3; i++) {
        const [report, s] = await timed(() =>
          app.get(ReconciliationService).reconcile(period, { stripe: false }),
        );
        reconcileRuns.push(s);
        log(`reconciliation of the month: ${s.toFixed(2)} s, ${report.differences.length} differences`);
      }
      const [state, runSeconds] = await timed(() => app.get(InvoiceRunService).start(period, 'cli').done);
      if (state.status !== 'completed' || state.counts.drafted !== invoices)
        throw new Error(`draft run: ${JSON.stringify(state)}`);
      log(`draft run (${fmt(state.counts.drafted)} invoices drafted as events): ${runSeconds.toFixed(2)} s`);
      return {
        rows,
        invoices,
        fillSeconds,
        ceilingRuns: ceiling,
        withCutRuns: withCut,
        computeRuns: compute,
        draftRunSeconds: runSeconds,
        exportRecords,
        exportBytes,
        exportReadRuns: exportReads,
        exportRuns,
        reconcileRuns,
      };
    } finally {
      await app.close();
    }
  } finally {
    await dropBenchEnv(env);
  }
}

/** The emulator's own rate for the cheapest write (customer create), at the same concurrency. */
async function localstripeCeiling(concurrency: number): Promise<number> {
  const u = new URL(LOCALSTRIPE);
  const stripe = new Stripe('sk_test_gpumeterlocal', {
    host: u.hostname,
    port: Number(u.port),
    protocol: 'http',
  });
  const n = 600;
  const [, s] = await timed(() =>
    forEachWithConcurrency(
      Array.from({ length: n }, (_, i) => i),
      concurrency,
      async () => {
        await stripe.customers.create({ name: 'ceiling' });
      },
    ),
  );
  return n / s;
}

async function wipeLocalstripe() {
  await fetch(`${LOCALSTRIPE}/_config/data`, { method: 'DELETE' });
}

async function pushBench(period: BillingPeriod, concurrency: number) {
  const env = await benchEnv('push');
  try {
    await fillMonth(env, period, PUSH_INVOICES, true);
    await wipeLocalstripe();
    const app = await context({
      ...env,
      INVOICE_GRACE_HOURS: '0',
      INVOICE_SCHEDULER_INTERVAL_SECONDS: '0',
      STRIPE_API_URL: LOCALSTRIPE,
      STRIPE_MAX_CONCURRENCY: String(concurrency),
    });
    try {
      const stripe = app.get(StripeApiService);
      const [state, seconds] = await timed(() => app.get(InvoiceRunService).start(period, 'cli').done);
      if (state.status !== 'completed' || state.counts.pushed !== PUSH_INVOICES)
        throw new Error(
          `push run: ${JSON.stringify(state.counts)} ${JSON.stringify(state.errors.slice(0, 3))}`,
        );
      // The emulator's read rate with the store as the push left it: its list routes scan
      // every stored object, so each request costs more as the store grows.
      const customer = (await stripe.listCustomers())[0].id;
      const [, listSeconds] = await timed(() =>
        forEachWithConcurrency(
          Array.from({ length: 300 }, (_, i) => i),
          concurrency,
          async () => {
            await stripe.listPendingInvoiceItems(customer);
          },
        ),
      );
      // …and its write rate there: localstripe pickles its whole store after every write.
      const [, createSeconds] = await timed(() =>
        forEachWithConcurrency(
          Array.from({ length: 100 }, (_, i) => i),
          concurrency,
          async (i) => {
            await stripe.createCustomer({ name: 'ceiling' }, `bench-ceiling-${Date.now()}-${i}`);
          },
        ),
      );
      return {
        seconds,
        invoicesPerSecond: PUSH_INVOICES / seconds,
        stripeRequests: stripe.requests,
        fullStoreListsPerSecond: 300 / listSeconds,
        fullStoreCreatesPerSecond: 100 / createSeconds,
      };
    } finally {
      await app.close();
    }
  } finally {
    await dropBenchEnv(env);
  }
}

async function main() {
  // Rated: the open month (drafts only, nothing is finalized or pushed); pushed: a closed one.
  const rating = await ratingBench(BillingPeriod.containing(Date.now()));
  const period = BillingPeriod.containing(Date.now()).previous().previous();
  const pushes: Record<number, Awaited<ReturnType<typeof pushBench>>[]> = {};
  const ceilings: Record<number, number[]> = {};
  for (const concurrency of [1, 8]) {
    pushes[concurrency] = [];
    ceilings[concurrency] = [];
    for (let i = 0; i < 3; i++) {
      await wipeLocalstripe();
      ceilings[concurrency].push(await localstripeCeiling(concurrency));
      const p = await pushBench(period, concurrency); // wipes the emulator again first
      pushes[concurrency].push(p);
      log(
        `push, concurrency ${concurrency}: ${PUSH_INVOICES} invoices in ${p.seconds.toFixed(2)} s = ${p.invoicesPerSecond.toFixed(1)}/s, ` +
          `${fmt(p.stripeRequests / p.seconds)} Stripe requests/s (emulator: ${fmt(ceilings[concurrency][i])} creates/s on an empty store; on the full one ${fmt(p.fullStoreCreatesPerSecond)} creates/s, ${fmt(p.fullStoreListsPerSecond)} lists/s)`,
      );
    }
  }
  await wipeLocalstripe();
  const result = {
    date: new Date().toISOString(),
    cores: cpus().length,
    workspaces: WORKSPACES,
    rating,
    pushes,
    ceilings,
  };
  const pushRow = (c: number) => {
    const runs = pushes[c];
    const ips = median(runs.map((r) => r.invoicesPerSecond));
    const rps = median(runs.map((r) => r.stripeRequests / r.seconds));
    const ceil = median(ceilings[c]);
    const lists = median(runs.map((r) => r.fullStoreListsPerSecond));
    const creates = median(runs.map((r) => r.fullStoreCreatesPerSecond));
    return `| ${c} | ${ips.toFixed(1)} (${runs.map((r) => r.invoicesPerSecond.toFixed(1)).join(', ')}) | ${(median(runs.map((r) => r.stripeRequests)) / PUSH_INVOICES).toFixed(1)} | ${fmt(rps)} | ${fmt(ceil)} | ${fmt(creates)} | ${fmt(lists)} |`;
  };
  writeBenchResult(
    'invoice',
    'Invoicing (npm run bench:invoice)',
    [
      `Last run: ${result.date}, ${result.cores} cores; Kafka, ClickHouse, localstripe and the benchmark on this machine. Medians of 3.`,
      '',
      `Rating one month for ${fmt(WORKSPACES)} workspaces (half team, half starter; ${ACTIVE_HOURS} active hours × ${SERIES} GPU-type/app series each = ${fmt(WORKSPACES * ACTIVE_HOURS * SERIES)} raw events, one hour each, rolled up by the materialized view; two price changes, one on a whole hour and one at an instant inside an hour, so three price segments), no Stripe:`,
      '',
      '| step | seconds, median (runs) |',
      '| --- | --- |',
      `| ceiling: ClickHouse aggregation of the hourly rollups alone (the rating query without the cut hour, ${fmt(rating.rows)} result rows) | ${median(rating.ceilingRuns).toFixed(2)} (${rating.ceilingRuns.map((x) => x.toFixed(2)).join(', ')}) |`,
      `| the rating query as invoices run it: rollups + the hour the second change cuts, read from raw events per piece | ${median(rating.withCutRuns).toFixed(2)} (${rating.withCutRuns.map((x) => x.toFixed(2)).join(', ')}) |`,
      `| every invoice computed (aggregation + exact rating + ${fmt(rating.invoices)} documents) | ${median(rating.computeRuns).toFixed(2)} (${rating.computeRuns.map((x) => x.toFixed(2)).join(', ')}) |`,
      `| an invoice run that drafts them all (computation + ${fmt(rating.invoices)} invoice.drafted events to Kafka + projections), one run | ${rating.draftRunSeconds.toFixed(2)} |`,
      `| GET /v1/reconciliation for the month, without Stripe (consumer lag, duplicate scan and rollups vs raw over all its events, every invoice computed again) | ${median(rating.reconcileRuns).toFixed(2)} (${rating.reconcileRuns.map((x) => x.toFixed(2)).join(', ')}) |`,
      '',
      `Usage export (GET /v1/exports/usage, measured in process without the socket) of one week of the same data: ${fmt(rating.exportRecords)} records, ${fmt(rating.exportBytes / 1e6)} MB of CSV:`,
      '',
      '| step | seconds, median (runs) | records/s |',
      '| --- | --- | --- |',
      `| ceiling: the ClickHouse reads alone (a day at a time) | ${median(rating.exportReadRuns).toFixed(2)} (${rating.exportReadRuns.map((x) => x.toFixed(2)).join(', ')}) | ${fmt(rating.exportRecords / median(rating.exportReadRuns))} |`,
      `| records read, rated exactly and written as CSV | ${median(rating.exportRuns).toFixed(2)} (${rating.exportRuns.map((x) => x.toFixed(2)).join(', ')}) | ${fmt(rating.exportRecords / median(rating.exportRuns))} |`,
      '',
      `Pushing ${PUSH_INVOICES} finalized invoices to localstripe (customer, ≈ 6 invoice items, invoice, reconciliation reads, verification), whole run:`,
      '',
      '| concurrency (STRIPE_MAX_CONCURRENCY) | invoices/s, median (runs) | Stripe requests per invoice | Stripe requests/s | emulator: customer creates/s, empty store | emulator: customer creates/s, store as the push left it | emulator: item lists/s, store as the push left it |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      pushRow(1),
      pushRow(8),
    ],
    result,
  );
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`${(e as Error).stack}\n`);
    process.exit(1);
  },
);
