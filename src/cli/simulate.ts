import { dataOf, gpumeterClient } from '../api-client/client';
import { syntheticWorkload } from '../agent/synthetic-workload';
import { formatAmount, Money } from '../catalog/money';
import { quantityInUnits } from '../catalog/rating';
import { HOUR_MS } from '../common/time';

interface SimulateOptions {
  url: string;
  adminKey: string;
  ingestToken: string;
  workspaces: number;
  containers: number;
  seed: number;
  hours: number;
  /** `last`: the workload runs in the last hours of the previous month (so it can be invoiced now). */
  month: 'current' | 'last';
  /** After the usage check, run the invoicing of the workload's month and print the invoices. */
  invoice: boolean;
}

/**
 * Drives a synthetic GPU workload through the real pipeline (POST /v1/events), waits until
 * GET /v1/usage shows all of it, and prints usage per workspace and GPU type beside the
 * workload's own ledger. Exits non-zero if any figure differs.
 */
export async function simulate(o: SimulateOptions, print: (line: string) => void): Promise<boolean> {
  const runId = Date.now().toString(36);
  const workspaces = Array.from({ length: o.workspaces }, (_, i) => `demo_${runId}_${i + 1}`);
  const now = new Date();
  const endMs =
    o.month === 'last'
      ? Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1) - 600_000
      : Math.floor(Date.now() / 1000) * 1000 - 60_000;
  const { events, ledger } = syntheticWorkload({
    seed: o.seed,
    workspaces,
    containersPerWorkspace: o.containers,
    endMs,
    spanMs: o.hours * HOUR_MS,
  });
  const operator = gpumeterClient({ baseUrl: o.url, token: o.adminKey });
  const agent = gpumeterClient({ baseUrl: o.url, token: o.ingestToken });
  for (const [i, id] of workspaces.entries()) {
    const body = {
      id,
      name: `Demo ${id}`,
      email: `${id}@example.test`,
      plan: i % 2 === 0 ? 'starter' : 'team',
    };
    dataOf(await operator.POST('/v1/workspaces', { body }), `creating workspace ${id}`);
  }
  print(`posting ${events.length} usage events for ${workspaces.length} workspaces …`);
  const started = Date.now();
  for (let i = 0; i < events.length; i += 1000) {
    const r = dataOf(
      await agent.POST('/v1/events', { body: events.slice(i, i + 1000) as never }),
      'POST /v1/events',
    );
    if (r.rejected.length > 0)
      throw new Error(`POST /v1/events: ${JSON.stringify(r.rejected).slice(0, 300)}`);
  }
  print(`accepted by Kafka in ${Date.now() - started} ms; waiting until ClickHouse has all of it …`);

  const from = new Date(Math.floor((endMs - o.hours * HOUR_MS) / HOUR_MS) * HOUR_MS - HOUR_MS).toISOString();
  const to = new Date(Math.ceil(endMs / HOUR_MS) * HOUR_MS + HOUR_MS).toISOString();
  const billed = new Map<
    string,
    Array<{ gpu_type: string; gpu_ms: string; gpu_seconds: string; amount: string }>
  >();
  const deadline = Date.now() + 120_000;
  for (const ws of workspaces) {
    const expected = [...(ledger.get(ws)?.values() ?? [])].reduce((a, b) => a + b, 0n);
    for (;;) {
      const usage = dataOf(
        await operator.GET('/v1/usage', {
          params: { query: { workspace_id: ws, window: 'month', group_by: 'gpu_type', from, to } },
        }),
        'GET /v1/usage',
      );
      if (BigInt(usage.totals.gpu_ms) >= expected || Date.now() > deadline) {
        // Rows per month; fold months together per GPU type.
        const perType = new Map<string, { gpu_ms: bigint; amount: Money }>();
        for (const row of usage.rows) {
          const type = row.gpu_type ?? '(none)'; // grouped by gpu_type: every row names one
          const e = perType.get(type) ?? { gpu_ms: 0n, amount: new Money(0) };
          e.gpu_ms += BigInt(row.gpu_ms);
          e.amount = e.amount.plus(row.amount); // already-rounded row amounts: sums stay exact
          perType.set(type, e);
        }
        billed.set(
          ws,
          [...perType.entries()].map(([gpu_type, e]) => ({
            gpu_type,
            gpu_ms: e.gpu_ms.toString(),
            gpu_seconds: quantityInUnits('gpu', e.gpu_ms),
            amount: formatAmount(e.amount),
          })),
        );
        break;
      }
      await new Promise((res) => setTimeout(res, 250));
    }
  }

  let allMatch = true;
  print('');
  print(
    `${'workspace'.padEnd(24)} ${'gpu_type'.padEnd(10)} ${'GPU-seconds billed'.padStart(20)} ${'agent ledger'.padStart(20)} ${'usage USD'.padStart(12)}  match`,
  );
  for (const ws of workspaces) {
    const rows = billed.get(ws) ?? [];
    const types = new Set([...rows.map((r) => r.gpu_type), ...(ledger.get(ws)?.keys() ?? [])]);
    for (const t of [...types].sort()) {
      const row = rows.find((r) => r.gpu_type === t);
      const expected = ledger.get(ws)?.get(t) ?? 0n;
      const ok = row !== undefined && BigInt(row.gpu_ms) === expected;
      allMatch &&= ok;
      print(
        `${ws.padEnd(24)} ${t.padEnd(10)} ${(row?.gpu_seconds ?? '0').padStart(20)} ${quantityInUnits('gpu', expected).padStart(20)} ${(row?.amount ?? '0.00').padStart(12)}  ${ok ? 'yes' : 'NO'}`,
      );
    }
  }
  print(
    '(usage USD: GPU, CPU and memory of those containers, from GET /v1/usage; invoices show CPU and memory as their own lines)',
  );
  print('');
  print(
    allMatch
      ? 'every GPU-millisecond the workload ran is billed exactly once'
      : 'MISMATCH between billed usage and the workload ledger',
  );
  if (!o.invoice) return allMatch;
  return (await invoiceWorkload(o, workspaces, ledger, new Date(endMs - 1), print)) && allMatch;
}

interface InvoiceLineView {
  key: string;
  kind: string;
  quantity: string;
  unit: string;
  unit_price: string | null;
  amount: string;
}

/**
 * Runs the invoicing of the workload's month through the API, waits for the run, and prints
 * each workspace's invoice; checks that its GPU lines carry exactly the ledger's GPU-seconds.
 */
async function invoiceWorkload(
  o: SimulateOptions,
  workspaces: string[],
  ledger: Map<string, Map<string, bigint>>,
  inMonth: Date,
  print: (line: string) => void,
): Promise<boolean> {
  const period = `${inMonth.getUTCFullYear()}-${String(inMonth.getUTCMonth() + 1).padStart(2, '0')}`;
  print('');
  print(`invoicing ${period} (POST /v1/invoice-runs) …`);
  const operator = gpumeterClient({ baseUrl: o.url, token: o.adminKey });
  let run = dataOf(await operator.POST('/v1/invoice-runs', { body: { period } }), 'POST /v1/invoice-runs');
  const deadline = Date.now() + 300_000;
  while (run.status === 'running' && Date.now() < deadline) {
    await new Promise((res) => setTimeout(res, 500));
    const path = { id: run.id };
    run = dataOf(
      await operator.GET('/v1/invoice-runs/{id}', { params: { path } }),
      'GET /v1/invoice-runs/{id}',
    );
  }
  print(`run ${run.id}: ${run.status}, ${JSON.stringify(run.counts)}`);
  for (const e of run.errors ?? []) print(`  error: ${e.invoice_id ?? ''} ${e.message}`);
  let ok = run.status === 'completed';
  for (const ws of workspaces) {
    const found = await operator.GET('/v1/invoices/{id}', {
      params: { path: { id: `inv_${period}_${ws}` } },
    });
    print('');
    if (found.response.status === 404) {
      // An earlier run closed the month: this usage is billed as adjustment lines next month.
      ok = false;
      print(`${ws}: no invoice for ${period} — the month was already closed by an earlier run`);
      continue;
    }
    const inv = dataOf(found, `GET /v1/invoices/inv_${period}_${ws}`);
    print(`${inv.id}  plan ${inv.plan.plan}  status ${inv.status}  Stripe ${inv.stripe?.invoice_id ?? '-'}`);
    for (const l of inv.lines as InvoiceLineView[]) {
      print(
        `  ${l.key.padEnd(16)} ${`${l.quantity} ${l.unit}`.padStart(30)} ${`× ${l.unit_price ?? 'several'}`.padEnd(14)} ${l.amount.padStart(12)}`,
      );
      if (l.kind === 'gpu') {
        const expected = quantityInUnits('gpu', ledger.get(ws)?.get(l.key.slice(4)) ?? 0n);
        if (expected !== l.quantity) {
          ok = false;
          print(`  MISMATCH: the ledger says ${expected} GPU-seconds`);
        }
      }
    }
    print(
      `  ${'total'.padEnd(16)} ${''.padStart(30)} ${''.padEnd(14)} ${`${inv.total} ${inv.currency}`.padStart(16)}`,
    );
  }
  print('');
  print(ok ? `every invoice of ${period} carries exactly the ledger's GPU-seconds` : 'INVOICING FAILED');
  return ok;
}
