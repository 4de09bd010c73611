import { randomBytes } from 'node:crypto';
import { chReader } from './support/clickhouse';
import { api } from './support/http';
import {
  createPlannedWorkspaces,
  LOCALSTRIPE_BILLING_ENV,
  monthBack,
  MonthUsageSender,
  runCli,
  runInvoiceMonth,
} from './support/billing';
import { quantityMs } from './support/invoice-oracle';
import { ServiceProcess } from './support/service-process';
import { ADMIN_KEY, isolatedEnv } from './support/test-env';

interface Line {
  id: string;
  key: string;
  kind: string;
  unit: string;
  quantity: string;
  prices: { from: string; to: string; quantity: string }[];
  adjusts?: { period: string; key: string };
  events?: {
    events: string;
    quantity_ms: string;
    checksum: string;
    ingested_after: string | null;
    ingested_until: string;
  };
}
interface Invoice {
  id: string;
  workspace_id: string;
  period: string;
  lines: Line[];
  events_as_of?: string;
}

/**
 * Invoice lines traced to their events (issue 15): every usage line of a finalized invoice —
 * and every usage adjustment — records the events behind it; they stream as CSV or JSONL and
 * add up exactly to the line; the checksum recomputes (also after a replay into a new
 * database); an event planted in a closed month is reported by reconciliation against its line.
 */
describe('line tracing: every invoice line traced to its events', () => {
  const tag = randomBytes(3).toString('hex');
  const workspaces = [`lt${tag}-a`, `lt${tag}-b`];
  const months = [monthBack(2), monthBack(1)];
  let env: Record<string, string>;
  let svc: ServiceProcess;
  let ch: ReturnType<typeof chReader>;
  let keys: Record<string, string>;
  const sender = new MonthUsageSender(
    () => svc.url,
    () => ch,
    workspaces,
    tag,
  );
  const invoices: Invoice[] = [];

  /** The documented digest, stated again in SQL here: count, Σ quantity, Σ sipHash64, Σ cityHash64. */
  async function digest(db: ReturnType<typeof chReader>, inv: Invoice, line: Line): Promise<Line['events']> {
    const month = [...months].find((m) => m.period === (line.adjusts?.period ?? inv.period))!;
    const key = line.adjusts?.key ?? line.key;
    const factor = key === 'cpu' ? 'cpu_millicores' : key === 'memory' ? 'memory_mib' : 'gpu_count';
    const which = key.startsWith('gpu:') ? `AND gpu_type = '${key.slice(4)}'` : '';
    const after =
      line.events!.ingested_after === null
        ? ''
        : `AND ingested_at_ms > ${Date.parse(line.events!.ingested_after)}`;
    const row = await db.one<{ n: string; total_q: string; sip: string; city: string }>(`
      SELECT toString(count()) AS n, toString(sum(q)) AS total_q, toString(sum(sipHash64(source, id, q))) AS sip,
             toString(sum(cityHash64(source, id, q))) AS city
      FROM (SELECT source, id,
                   toUInt64(${factor}) * toUInt64(least(ended_at_ms, ${month.end}) - greatest(started_at_ms, ${month.start})) AS q
            FROM usage_events
            WHERE workspace_id = '${inv.workspace_id}' ${which}
              AND ended_at_ms > ${month.start} AND started_at_ms < ${month.end}
              ${after} AND ingested_at_ms <= ${Date.parse(line.events!.ingested_until)})
      WHERE q > 0`);
    const hex = (v: string) => BigInt(v).toString(16).padStart(16, '0');
    return {
      ...line.events!,
      events: row.n,
      quantity_ms: row.total_q,
      checksum: `mh64x2:${hex(row.sip)}${hex(row.city)}`,
    };
  }

  const traced = () =>
    invoices.flatMap((inv) => inv.lines.filter((l) => l.events).map((line) => ({ inv, line })));

  beforeAll(async () => {
    env = await isolatedEnv('tracing', { ...LOCALSTRIPE_BILLING_ENV, INVOICE_GRACE_HOURS: '0' });
    svc = await new ServiceProcess('tracing', env, 'all').start();
    ch = chReader(env);
    keys = await createPlannedWorkspaces(svc.url, workspaces, (i) => (i === 0 ? 'team' : 'starter'));
    // A price change inside an hour of the first month: its GPU lines have two price pieces.
    const change = await api(svc.url, 'POST', '/v1/catalog/price-changes', ADMIN_KEY, {
      effective_from: new Date(
        months[0].start + 12 * 86_400_000 + 7 * 3_600_000 + 13 * 60_000 + 9,
      ).toISOString(),
      gpu_per_second: { H100: '0.001180', L4: '0.000240' },
    });
    expect(change.status).toBe(201);
    await sender.send(months[0], 40, 301);
    expect((await runInvoiceMonth(svc.url, months[0].period)).status).toBe('completed');
    await sender.send(months[1], 30, 302);
    await sender.send(months[0], 8, 303); // late for the first month: adjustments on the second
    expect((await runInvoiceMonth(svc.url, months[1].period)).status).toBe('completed');
    for (const m of months)
      for (const ws of workspaces)
        invoices.push(
          (await api(svc.url, 'GET', `/v1/invoices/inv_${m.period}_${ws}`, ADMIN_KEY)).body as Invoice,
        );
  }, 300_000);

  afterAll(async () => {
    await svc?.kill();
    await ch?.close();
  });

  it('every usage line and usage adjustment is traced, and its streamed events add up to it exactly', async () => {
    const lines = traced();
    expect(lines.length).toBeGreaterThan(20);
    expect(lines.some(({ line }) => line.kind === 'adjustment')).toBe(true);
    expect(lines.some(({ line }) => line.prices.length > 1)).toBe(true);
    // Every usage line is traced; credits, fees and credit adjustments are not.
    for (const inv of invoices)
      for (const l of inv.lines)
        expect([l.id, l.events !== undefined]).toEqual([
          l.id,
          ['gpu_second', 'core_second', 'gib_second'].includes(l.unit),
        ]);
    for (const { inv, line } of lines) {
      expect(line.events!.quantity_ms).toBe(quantityMs(line.quantity, line.unit).toString());
      const format = line.kind === 'adjustment' ? 'jsonl' : 'csv';
      const res = await fetch(
        `${svc.url}/v1/invoices/${inv.id}/lines/${encodeURIComponent(line.id)}/events?format=${format}`,
        {
          headers: { authorization: `Bearer ${keys[inv.workspace_id]}` },
        },
      );
      expect([line.id, res.status]).toEqual([line.id, 200]);
      const text = await res.text();
      const rows =
        format === 'jsonl'
          ? text
              .trim()
              .split('\n')
              .filter(Boolean)
              .map((l) => JSON.parse(l) as Record<string, string>)
          : text
              .trim()
              .split('\n')
              .slice(1)
              .map((l) => {
                const [source, id, , , piece_from, piece_to, ms, quantity_ms] = l.split(',');
                return { source, id, piece_from, piece_to, ms, quantity_ms };
              });
      const sum = rows.reduce((a, r) => a + BigInt(r.quantity_ms), 0n);
      expect([line.id, sum.toString()]).toEqual([line.id, line.events!.quantity_ms]);
      expect(new Set(rows.map((r) => `${r.source} ${r.id}`)).size).toBe(Number(line.events!.events));
      // A line across a price change: each piece's events add up to that price's quantity.
      for (const p of line.prices.length > 1 ? line.prices : []) {
        const inPiece = rows
          .filter((r) => r.piece_from === new Date(Date.parse(p.from)).toISOString())
          .reduce((a, r) => a + BigInt(r.quantity_ms), 0n);
        expect([line.id, p.from, inPiece]).toEqual([line.id, p.from, quantityMs(p.quantity, line.unit)]);
      }
    }
    // Another workspace's key cannot read them; a line that is not traced says so.
    const { inv, line } = lines.find((x) => x.inv.workspace_id === workspaces[0])!;
    const other = await fetch(
      `${svc.url}/v1/invoices/${inv.id}/lines/${encodeURIComponent(line.id)}/events`,
      {
        headers: { authorization: `Bearer ${keys[workspaces[1]]}` },
      },
    );
    expect(other.status).toBe(404);
    const fee = inv.lines.find((l) => l.kind === 'plan_fee')!;
    const untraced = await api(
      svc.url,
      'GET',
      `/v1/invoices/${inv.id}/lines/${encodeURIComponent(fee.id)}/events`,
      ADMIN_KEY,
    );
    expect([untraced.status, untraced.body.error.message]).toEqual([
      404,
      expect.stringMatching(/no traced events/),
    ]);
  });

  it('every checksum recomputes from the events; both months reconcile', async () => {
    for (const { inv, line } of traced())
      expect([line.id, await digest(ch, inv, line)]).toEqual([line.id, line.events]);
    for (const m of months) {
      const r = await api(svc.url, 'GET', `/v1/reconciliation?period=${m.period}&stripe=false`, ADMIN_KEY);
      expect([m.period, r.body.differences, r.body.invoices.line_events]).toEqual([m.period, [], 'checked']);
    }
  });

  it('after a replay into a new database, every finalized line’s events give the same checksum', async () => {
    const database = `${env.CLICKHOUSE_DATABASE}_r`;
    const result = await runCli(env, ['replay', '--database', database]);
    expect(result.code).toBe(0);
    const replayed = chReader({ ...env, CLICKHOUSE_DATABASE: database });
    try {
      for (const { inv, line } of traced())
        expect([line.id, await digest(replayed, inv, line)]).toEqual([line.id, line.events]);
    } finally {
      await replayed.command(`DROP DATABASE IF EXISTS ${database}`);
      await replayed.close();
    }
  });

  it('an event planted in a closed month is reported by reconciliation against its line', async () => {
    const inv = invoices.find((i) => i.period === months[0].period && i.workspace_id === workspaces[0])!;
    const line = inv.lines.find((l) => l.key.startsWith('gpu:') && l.events)!;
    const at = months[0].start + 3 * 86_400_000;
    // As if it had always been there: accepted long before the month was invoiced.
    await ch.command(`
      INSERT INTO usage_events (workspace_id, source, id, container_id, app_id, function_id, region, provider,
        gpu_type, gpu_count, cpu_millicores, memory_mib, started_at, ended_at, started_at_ms, ended_at_ms,
        gpu_ms, cpu_millicore_ms, memory_mib_ms, ingested_at_ms, kafka_partition, kafka_offset)
      VALUES ('${inv.workspace_id}', 'agent://planted', 'planted-1', 'ct', 'app_0', 'fn_0', 'us-east', '',
        '${line.key.slice(4)}', 1, 0, 0, toDateTime(${at / 1000}), toDateTime(${at / 1000 + 60}), ${at}, ${at + 60_000},
        60000, 0, 0, ${at + 61_000}, 0, 0)`);
    const r = await api(
      svc.url,
      'GET',
      `/v1/reconciliation?period=${months[0].period}&stripe=false`,
      ADMIN_KEY,
    );
    const changed = (r.body.differences as { check: string; invoice_id?: string; detail: string }[]).filter(
      (d) => d.check === 'invoices.line_events_changed',
    );
    expect(changed.map((d) => [d.invoice_id, d.detail.includes(line.id)])).toEqual([[inv.id, true]]);
    expect(r.body.invoices.traced_lines_changed).toBe(1);
  });
});
