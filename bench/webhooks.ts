/**
 * npm run bench:webhooks -- [--workspaces N] [--rate EVENTS_PER_S] [--seconds S] [--messages N]
 *
 * Three measurements against the real service (role all), Kafka and ClickHouse, with a real
 * local receiver that verifies every signature (test/support/webhook-receiver.ts):
 * 1. deliveries per second: N test messages over 20 endpoints, from the first request to the
 *    last delivery, beside the ceiling — the same receiver hit by a plain client at the
 *    dispatcher's concurrency, nothing signed, nothing through Kafka;
 * 2. acceptance → first attempt of a budget alert, p50 / p99: W workspaces with budgets while
 *    usage is ingested at R events/s through POST /v1/events; each workspace crosses its
 *    threshold with one event at a known moment (its 202);
 * 3. GET /v1/workspaces/{id}/allowance latency, p50 / p99, beside GET /healthz.
 */
import { cpus, totalmem } from 'node:os';
import Stripe from 'stripe';
import { WebhookReceiver } from '../test/support/webhook-receiver';
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

const WORKSPACES = arg('--workspaces', 1000);
const RATE = arg('--rate', 20_000);
const SECONDS = arg('--seconds', 60);
const MESSAGES = arg('--messages', 5000);
const CONCURRENCY = 32; // WEBHOOK_MAX_CONCURRENCY's default
const STRIPE_SECRET = 'whsec_benchwebhooks';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function call(url: string, method: string, token: string, body?: unknown) {
  const res = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status} ${text.slice(0, 300)}`);
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

function event(ws: string, i: number, endedMs: number, big: boolean) {
  const started = endedMs - (big ? 3_600_000 : 1000);
  return {
    specversion: '1.0',
    id: `${big ? 'cross' : 'bg'}-${ws}-${i}`,
    source: 'agent://bench',
    type: 'gpu.usage.v1',
    subject: ws,
    time: new Date(endedMs).toISOString(),
    data: {
      container_id: `ct-${i % 50}`,
      app_id: 'app',
      gpu_type: big ? 'H100' : 'T4',
      gpu_count: big ? 8 : 1,
      started_at: new Date(started).toISOString(),
      ended_at: new Date(endedMs).toISOString(),
    },
  };
}

async function main() {
  const env = await benchEnv('webhooks', 6);
  const svc = await new ServiceProc(
    {
      ...env,
      INVOICE_SCHEDULER_INTERVAL_SECONDS: '0',
      WEBHOOK_RETRY_SCHEDULE_SECONDS: '0,1,5',
      STRIPE_WEBHOOK_SECRET: STRIPE_SECRET,
    },
    'all',
  ).start();
  const url = `http://127.0.0.1:${svc.port}`;
  const receiver = await new WebhookReceiver().start();
  try {
    // 1. Deliveries per second: E operator endpoints hear invoice.paid; Stripe reports N/E
    //    payments, so the dispatcher itself creates N messages (in batches) and delivers them.
    //    The ceiling: the same receiver hit by a plain client at the dispatcher's concurrency.
    const FAN_OUT = 100;
    for (let e = 0; e < FAN_OUT; e++) {
      const r = await call(`${url}/v1/webhook-endpoints`, 'POST', ADMIN_KEY, {
        url: receiver.url(`/d${e}`),
        events: ['invoice.paid'],
      });
      receiver.secrets.set(`/d${e}`, [r.secret as string]);
    }
    const ceilingStart = performance.now();
    await forEachWithConcurrency(
      Array.from({ length: MESSAGES }, (_, i) => i),
      CONCURRENCY,
      async () => {
        await (await fetch(receiver.url('/ceiling'), { method: 'POST', body: '{}' })).arrayBuffer();
      },
    );
    const ceilingRate = MESSAGES / ((performance.now() - ceilingStart) / 1000);
    await sleep(3000); // the dispatcher's endpoint cache sees all endpoints
    const before = receiver.deliveries.length;
    const deliveryStart = performance.now();
    const stripe = new Stripe('sk_test_bench');
    for (let i = 0; i < Math.ceil(MESSAGES / FAN_OUT); i++) {
      const payload = JSON.stringify({
        id: `evt_bench_${i}`,
        object: 'event',
        type: 'invoice.paid',
        created: Math.floor(Date.now() / 1000),
        data: {
          object: {
            id: `in_${i}`,
            object: 'invoice',
            metadata: {
              gpumeter_invoice_id: `inv_2026-11_ws_${i}`,
              gpumeter_workspace_id: `ws_pay_${i % 10}`,
            },
          },
        },
      });
      const res = await fetch(`${url}/v1/stripe/webhooks`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'stripe-signature': stripe.webhooks.generateTestHeaderString({ payload, secret: STRIPE_SECRET }),
        },
        body: payload,
      });
      if (res.status !== 200) throw new Error(`stripe webhook: ${res.status} ${await res.text()}`);
    }
    const expected = Math.ceil(MESSAGES / FAN_OUT) * FAN_OUT;
    await receiver
      .waitFor('deliveries', () => receiver.deliveries.length - before >= expected, 600_000)
      .catch(() => undefined);
    const delivered = new Set(receiver.deliveries.slice(before).map((d) => d.id)).size;
    const deliveryRate = delivered / ((performance.now() - deliveryStart) / 1000);

    // 2. Alerts under load: W workspaces with budgets, usage at R events/s, one crossing each.
    const workspaces = Array.from({ length: WORKSPACES }, (_, i) => `ws_${String(i).padStart(4, '0')}`);
    await forEachWithConcurrency(workspaces, 8, async (ws) => {
      await call(`${url}/v1/workspaces`, 'POST', ADMIN_KEY, { id: ws, name: ws, email: `${ws}@bench.test` });
      await call(`${url}/v1/workspaces/${ws}/budget`, 'PUT', ADMIN_KEY, {
        monthly_limit: '1.00',
        thresholds: [50],
        enforce: true,
      });
    });
    await call(`${url}/v1/webhook-endpoints`, 'POST', ADMIN_KEY, {
      url: receiver.url('/alerts'),
      events: ['usage.threshold_reached'],
    });
    await sleep(2000);
    const accepted = new Map<string, number>();
    const loadStart = Date.now();
    let sent = 0;
    let stop = false;
    const background = (async () => {
      const perBatch = 1000;
      let i = 0;
      while (!stop) {
        const due = Math.floor(((Date.now() - loadStart) / 1000) * RATE);
        if (sent >= due) {
          await sleep(5);
          continue;
        }
        const now = Date.now() - 30_000;
        const batch = Array.from({ length: perBatch }, (_, k) =>
          event(workspaces[(i + k) % WORKSPACES], i + k, now - ((i + k) % 1000), false),
        );
        i += perBatch;
        await call(`${url}/v1/events`, 'POST', AGENT_TOKEN, batch);
        sent += perBatch;
      }
    })();
    const crossingsStart = Date.now() + 5_000;
    const window = (SECONDS - 15) * 1000;
    await forEachWithConcurrency(
      workspaces.map((ws, i) => ({ ws, at: crossingsStart + Math.floor((i / WORKSPACES) * window) })),
      4,
      async ({ ws, at }) => {
        await sleep(Math.max(0, at - Date.now()));
        await call(`${url}/v1/events`, 'POST', AGENT_TOKEN, [event(ws, 0, Date.now() - 60_000, true)]);
        accepted.set(ws, Date.now());
      },
    );
    const loadSeconds = (Date.now() - loadStart) / 1000;
    stop = true;
    await background;
    await receiver
      .waitFor('every alert', () => receiver.at('/alerts').length >= WORKSPACES, 180_000)
      .catch(() => undefined);
    const latencies: number[] = [];
    for (const d of receiver.at('/alerts')) {
      const ws = String(d.json.data.workspace_id);
      const t = accepted.get(ws);
      if (t !== undefined) latencies.push(d.receivedAtMs - t);
    }
    const alertStats = latencyStats(latencies);

    // 3. Allowance latency, beside GET /healthz.
    const timed = async (path: string, token: string | null, n: number, concurrency: number) => {
      const ms: number[] = [];
      await forEachWithConcurrency(
        Array.from({ length: n }, (_, i) => i),
        concurrency,
        async (i) => {
          const started = performance.now();
          const res = await fetch(`${url}${path.replace('{ws}', workspaces[i % WORKSPACES])}`, {
            headers: token ? { authorization: `Bearer ${token}` } : {},
          });
          await res.arrayBuffer();
          ms.push(performance.now() - started);
        },
      );
      return latencyStats(ms);
    };
    const healthz = await timed('/healthz', null, 5000, 8);
    const allowance = await timed('/v1/workspaces/{ws}/allowance', AGENT_TOKEN, 5000, 8);
    const healthz1 = await timed('/healthz', null, 5000, 1);
    const allowance1 = await timed('/v1/workspaces/{ws}/allowance', AGENT_TOKEN, 5000, 1);
    const denied = (
      await Promise.all(
        workspaces
          .slice(0, 50)
          .map(
            async (ws) =>
              (await call(`${url}/v1/workspaces/${ws}/allowance`, 'GET', AGENT_TOKEN)).allowed === false,
          ),
      )
    ).filter(Boolean).length;

    const date = new Date().toISOString();
    const lines = [
      `Last run: ${date}, ${cpus().length} cores (${cpus()[0]?.model.trim()}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; the service (role all), Kafka, ClickHouse, the receiver and the load generator on this machine.`,
      '',
      '| measurement | result | beside it |',
      '| --- | --- | --- |',
      `| deliveries to a local receiver (${expected.toLocaleString('en-US')} messages: ${Math.ceil(MESSAGES / FAN_OUT)} Stripe payments × ${FAN_OUT} operator endpoints, created by the dispatcher; concurrency ${CONCURRENCY} in all, 4 per endpoint; signed, every attempt recorded through Kafka), from the first Stripe webhook to the last delivery | ${fmtMs(deliveryRate)} /s (${delivered.toLocaleString('en-US')} delivered) | ceiling: the same receiver, a plain client at concurrency ${CONCURRENCY}: ${fmtMs(ceilingRate)} /s |`,
      `| budget alert, acceptance of the crossing event → first delivery attempt (${WORKSPACES.toLocaleString('en-US')} workspaces with budgets, usage at ${RATE.toLocaleString('en-US')} events/s requested, ${fmtMs(sent / loadSeconds)} /s reached) | p50 ${fmtMs(alertStats.p50 / 1000)} s, p99 ${fmtMs(alertStats.p99 / 1000)} s, max ${fmtMs(alertStats.max / 1000)} s (${alertStats.n} of ${WORKSPACES} alerts) | target: first attempt within 60 s |`,
      `| GET /v1/workspaces/{id}/allowance, one at a time (5,000 requests) | p50 ${fmtMs(allowance1.p50)} ms, p99 ${fmtMs(allowance1.p99)} ms | GET /healthz: p50 ${fmtMs(healthz1.p50)} ms, p99 ${fmtMs(healthz1.p99)} ms; target p99 < 5 ms |`,
      `| GET /v1/workspaces/{id}/allowance, 8 at a time (5,000 requests) | p50 ${fmtMs(allowance.p50)} ms, p99 ${fmtMs(allowance.p99)} ms | GET /healthz: p50 ${fmtMs(healthz.p50)} ms, p99 ${fmtMs(healthz.p99)} ms; ${denied} of 50 capped workspaces answered not allowed |`,
      '',
      `Signature verification failures at the receiver: ${receiver.verificationFailures.length}. Peak RSS of the service: ${svc.peakRssMiB()} MiB.`,
    ];
    writeBenchResult('webhooks', 'Webhooks (npm run bench:webhooks)', lines, {
      date,
      messages: MESSAGES,
      delivered,
      deliveryRate,
      ceilingRate,
      workspaces: WORKSPACES,
      rateRequested: RATE,
      rateReached: sent / loadSeconds,
      alertLatencyMs: alertStats,
      allowanceMs: allowance,
      healthzMs: healthz,
      allowanceSequentialMs: allowance1,
      healthzSequentialMs: healthz1,
      deniedOf50: denied,
      verificationFailures: receiver.verificationFailures.length,
    });
    console.log(lines.join('\n'));
  } finally {
    await receiver.stop();
    await svc.stop();
    await dropBenchEnv(env);
  }
}

void main();
