import { Clock } from '../platform/clock';
import { KafkaConfig } from '../platform/kafka/kafka.config';
import { Injectable, Logger } from '@nestjs/common';
import { Money } from '../catalog/money';
import { DAY_MS } from '../common/time';
import { LineDigestRow, LineEventSpan, UsageEventsRepository } from '../metering/usage-events.repository';
import { KafkaAdmin } from '../platform/kafka/kafka-admin';
import { BillingPeriod } from './billing-period';
import { InvoiceDocument, InvoiceLine, LineEvents } from './invoice';
import { StoredInvoice } from './invoices.repository';

/** Base-unit milliseconds per unit of a usage line's quantity. */
const MS_PER_UNIT: Record<string, number> = {
  gpu_second: 1000,
  core_second: 1_000_000,
  gib_second: 1_024_000,
};
/** How long a finalizing run waits for the usage consumer to read everything before its cut. */
const CUT_WAIT_MS = 30_000;

/** The usage line key a line's events are traced by (its own, or the one an adjustment corrects). */
export function tracedKey(line: InvoiceLine): string | undefined {
  const key = line.kind === 'adjustment' ? line.adjusts?.key : line.key;
  if (key === undefined || MS_PER_UNIT[line.unit] === undefined) return undefined;
  return key === 'cpu' || key === 'memory' || key.startsWith('gpu:') ? key : undefined;
}

/** A line's quantity in its base unit (GPU-, millicore-, MiB-ms): exact, a whole number. */
export function lineQuantityMs(line: InvoiceLine): bigint {
  const ms = new Money(line.quantity).times(MS_PER_UNIT[line.unit]);
  if (!ms.isInteger())
    throw new Error(`line ${line.id}: quantity ${line.quantity} is not whole milliseconds`);
  return BigInt(ms.toFixed(0));
}

const U64 = 1n << 64n;
function checksum(d: Pick<LineDigestRow, 'sip' | 'city'> | undefined): string {
  const hex = (v: string) => (BigInt(v) % U64).toString(16).padStart(16, '0');
  return `mh64x2:${hex(d?.sip ?? '0')}${hex(d?.city ?? '0')}`;
}

function digestOf(d: LineDigestRow | undefined, span: LineEventSpan): LineEvents {
  return {
    events: d?.events ?? '0',
    quantity_ms: d?.quantity_ms ?? '0',
    checksum: checksum(d),
    ingested_after: span.ingestedAfterMs < 0 ? null : new Date(span.ingestedAfterMs).toISOString(),
    ingested_until: new Date(span.ingestedUpToMs).toISOString(),
  };
}

/**
 * Invoice lines traced to their events (issue 15; src/invoicing/README.md). A finalizing run
 * takes a cut — every usage record with a Kafka timestamp before it has been read — and each
 * usage line (own or adjustment) of the invoices it finalizes records the events behind it:
 * those of its workspace, month and key first accepted before the cut (after the previous
 * billing's cut, for an adjustment), with a count, their quantity and a multiset checksum.
 * Record timestamps are kept by replays, so the same events are found again after one.
 */
@Injectable()
export class LineTracing {
  private readonly logger = new Logger(LineTracing.name);

  constructor(
    private readonly config: KafkaConfig,
    private readonly kafka: KafkaAdmin,
    private readonly events: UsageEventsRepository,
    private readonly clock: Clock,
  ) {}

  /**
   * The cut for a finalizing run, taken before its usage is rated: now, once the usage consumer
   * group has read every record written before it (waits a little; throws when it is behind).
   * The service's Clock: the API stamps each record it produces with its Clock's time of
   * receipt, which is also the "moment of ingestion" the consumer judges an event by.
   */
  async cut(nowMs = this.clock.now()): Promise<number> {
    const deadline = Date.now() + CUT_WAIT_MS;
    for (;;) {
      const behind = await this.kafka.partitionsNotReadTo(
        this.config.KAFKA_CONSUMER_GROUP,
        this.kafka.topics.usageEvents,
        nowMs,
      );
      if (behind.length === 0) return nowMs;
      if (Date.now() > deadline)
        throw new Error(
          `not finalizing: the usage consumer group ${this.config.KAFKA_CONSUMER_GROUP} has not read every record written before the run began (${behind
            .map((b) => `partition ${b.partition} at ${b.committed}, needs ${b.needed}`)
            .join('; ')}); run again once it has caught up`,
        );
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /**
   * Adds `events` to every traced line of `docs` (one period's invoices, not finalized yet) and
   * `events_as_of` to each, and checks that each line's events add up to its quantity exactly:
   * throws when an own line's do not (events stored while the run rated: run again); leaves an
   * adjustment line whose do not untraced, and so a line of a month billed in parts (its events
   * are those accepted since the month's previous threshold invoice). `finalized`: the
   * workspaces' finalized invoices, for the previous cut of an adjusted month (and of this one).
   */
  async attach(
    docs: readonly InvoiceDocument[],
    period: BillingPeriod,
    cutMs: number,
    finalized: readonly StoredInvoice[],
  ): Promise<InvoiceDocument[]> {
    const upTo = cutMs - 1;
    // Each traced line's span first, then one ClickHouse read per distinct span for every
    // workspace that needs it (not one per line).
    const spans = docs.map((doc) =>
      doc.lines.map((line): LineEventSpan | undefined => {
        if (tracedKey(line) === undefined) return undefined;
        if (line.kind !== 'adjustment') {
          // A month billed in parts: the events accepted since its previous threshold invoice's cut.
          const after = previousCut(finalized, doc.workspace_id, period, period.next());
          return after === undefined
            ? undefined
            : { fromMs: period.startMs, toMs: period.endMs, ingestedAfterMs: after, ingestedUpToMs: upTo };
        }
        const adjusted = BillingPeriod.parse(line.adjusts!.period)!;
        const after = previousCut(finalized, doc.workspace_id, adjusted, period);
        // undefined: billed before lines were traced, not traceable
        return after === undefined
          ? undefined
          : { fromMs: adjusted.startMs, toMs: adjusted.endMs, ingestedAfterMs: after, ingestedUpToMs: upTo };
      }),
    );
    const digests = await this.digestsFor(
      docs.flatMap((doc, i) =>
        spans[i].flatMap((span) => (span ? [{ span, workspaceId: doc.workspace_id }] : [])),
      ),
    );
    return docs.map((doc, i) => {
      const lines = doc.lines.map((line, j) => {
        const span = spans[i][j];
        if (span === undefined) return line;
        const events = digestOf(
          digests.get(spanKey(span))?.get(`${doc.workspace_id}|${tracedKey(line)}`),
          span,
        );
        if (BigInt(events.quantity_ms) === lineQuantityMs(line)) return { ...line, events };
        if (line.kind !== 'adjustment' && span.ingestedAfterMs < 0)
          throw new Error(
            `not finalizing: the events behind line ${line.id} add up to ${events.quantity_ms} ms, the line to ${lineQuantityMs(line)}: usage was stored while the run rated it; run again`,
          );
        // An earlier month's late usage that acceptance times cannot tell apart (its rollups
        // disagree with its raw events — reconciliation reports that — or an event accepted
        // with an old timestamp after the month was billed): billed, left untraced, never a
        // run stopped for good.
        // The same for a line of a month billed in parts, after its threshold invoices.
        this.logger.warn(
          `line ${line.id} left untraced: the events accepted since the last billing of ${line.adjusts?.period ?? period.toString()} add up to ${events.quantity_ms} ms, the line to ${lineQuantityMs(line)}`,
        );
        return line;
      });
      return { ...doc, lines, events_as_of: new Date(cutMs).toISOString() };
    });
  }

  /** Digests for many (span, workspace) pairs: one read per distinct span, keyed by spanKey. */
  private async digestsFor(
    wanted: ReadonlyArray<{ span: LineEventSpan; workspaceId: string }>,
  ): Promise<Map<string, Map<string, LineDigestRow>>> {
    const bySpan = new Map<string, { span: LineEventSpan; workspaces: Set<string> }>();
    for (const { span, workspaceId } of wanted) {
      const k = spanKey(span);
      const entry = bySpan.get(k) ?? { span, workspaces: new Set<string>() };
      entry.workspaces.add(workspaceId);
      bySpan.set(k, entry);
    }
    const out = new Map<string, Map<string, LineDigestRow>>();
    for (const [k, { span, workspaces }] of bySpan)
      out.set(k, await this.digests({ ...span, workspaceIds: [...workspaces].sort() }));
    return out;
  }

  /**
   * The traced lines of these finalized invoices whose events are no longer those recorded
   * (an event added, removed or changed), each with what differs. Lines of retired months
   * (`retired`: their raw events were dropped) are not looked at.
   */
  async changedLines(
    docs: readonly StoredInvoice[],
    retired: ReadonlySet<string>,
  ): Promise<Array<{ workspace_id: string; invoice_id: string; line_id: string; detail: string }>> {
    const checked = docs.flatMap(({ document: doc }) =>
      doc.lines.flatMap((line) => {
        if (tracedKey(line) === undefined || line.events === undefined) return [];
        const month = line.kind === 'adjustment' ? line.adjusts!.period : doc.period;
        return retired.has(month) ? [] : [{ doc, line, span: spanOf(line, month) }];
      }),
    );
    const digests = await this.digestsFor(
      checked.map((c) => ({ span: c.span, workspaceId: c.doc.workspace_id })),
    );
    const out: Array<{ workspace_id: string; invoice_id: string; line_id: string; detail: string }> = [];
    for (const { doc, line, span } of checked) {
      const now = digestOf(digests.get(spanKey(span))?.get(`${doc.workspace_id}|${tracedKey(line)}`), span);
      const was = line.events!;
      if (now.checksum !== was.checksum || now.quantity_ms !== was.quantity_ms)
        out.push({
          workspace_id: doc.workspace_id,
          invoice_id: doc.id,
          line_id: line.id,
          detail: `the events behind line ${line.id} changed since it was finalized: ${was.events} events, ${was.quantity_ms} ms then; ${now.events} events, ${now.quantity_ms} ms now (checksum ${was.checksum} → ${now.checksum})`,
        });
    }
    return out;
  }

  /** The events behind a traced line, a day of ended_at at a time, with their part of each price piece. */
  async *lineEvents(doc: InvoiceDocument, line: InvoiceLine) {
    const key = tracedKey(line)!;
    const month = BillingPeriod.parse(line.kind === 'adjustment' ? line.adjusts!.period : doc.period)!;
    const span = spanOf(line, month.toString());
    const pieces =
      line.prices.length > 0
        ? line.prices.map((p) => ({ fromMs: Date.parse(p.from), toMs: Date.parse(p.to) }))
        : [{ fromMs: month.startMs, toMs: month.endMs }];
    // Events end up to an hour after the month's end (they are clipped to it).
    for (let day = month.startMs; day < month.endMs + 3_600_000; day += DAY_MS)
      yield await this.events.lineEvents(
        { ...span, workspaceId: doc.workspace_id, lineKey: key },
        pieces,
        day,
        Math.min(day + DAY_MS, month.endMs + 3_600_001),
      );
  }

  private async digests(span: LineEventSpan): Promise<Map<string, LineDigestRow>> {
    const rows = await this.events.lineDigests(span);
    return new Map(rows.map((r) => [`${r.workspace_id}|${r.line_key}`, r]));
  }
}

function spanKey(span: LineEventSpan): string {
  return `${span.fromMs}|${span.toMs}|${span.ingestedAfterMs}|${span.ingestedUpToMs}`;
}

/** The span a traced line's events were recorded over. */
function spanOf(line: InvoiceLine, month: string): LineEventSpan {
  const m = BillingPeriod.parse(month)!;
  const e = line.events!;
  return {
    fromMs: m.startMs,
    toMs: m.endMs,
    ingestedAfterMs: e.ingested_after === null ? -1 : Date.parse(e.ingested_after),
    ingestedUpToMs: Date.parse(e.ingested_until),
  };
}

/**
 * The cut of the last billing of `adjusted` for a workspace before `invoicePeriod`: the latest
 * `events_as_of` among its finalized invoices from `adjusted` up to the one before — each of them
 * re-rated the month with everything stored by its cut; -1 when none billed it. Undefined when
 * one of them was finalized before lines were traced.
 */
function previousCut(
  finalized: readonly StoredInvoice[],
  workspaceId: string,
  adjusted: BillingPeriod,
  invoicePeriod: BillingPeriod,
): number | undefined {
  let cut = -1; // no invoice billed the month yet: every event of it is new here
  for (const { document: d } of finalized) {
    if (d.workspace_id !== workspaceId) continue;
    if (d.period < adjusted.toString() || d.period >= invoicePeriod.toString()) continue;
    if (d.events_as_of === undefined) return undefined;
    cut = Math.max(cut, Date.parse(d.events_as_of) - 1);
  }
  return cut;
}
