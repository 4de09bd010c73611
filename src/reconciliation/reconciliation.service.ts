import { Clock } from '../platform/clock';
import { KafkaConfig } from '../platform/kafka/kafka.config';
import { StripeConfig } from '../stripe/stripe.config';
import { Injectable } from '@nestjs/common';
import { formatAmount, Money, toMinorUnits } from '../catalog/money';
import { BillingPeriod } from '../invoicing/billing-period';
import { isThresholdInvoice } from '../invoicing/threshold-invoices';
import { InvoiceCalculator } from '../invoicing/invoice-calculator.service';
import { InvoicesRepository } from '../invoicing/invoices.repository';
import { UsageEventsRepository } from '../metering/usage-events.repository';
import { UsageRollupsRepository } from '../metering/usage-rollups.repository';
import { forEachWithConcurrency } from '../platform/concurrency';
import { KafkaAdmin } from '../platform/kafka/kafka-admin';
import { StripeApiService } from '../stripe/stripe-api.service';
import { StoredRows } from '../platform/clickhouse/stored-rows';
import { META } from '../stripe/stripe-invoice-pusher.service';
import { HOUR_MS } from '../common/time';
import { LineTracing } from '../invoicing/line-tracing.service';
import { monthNumber } from '../metering/price-split-hours';
import { UsageRetirementsRepository } from '../metering/usage-retirements.repository';

export interface Difference {
  check: string; // which comparison found it
  workspace_id?: string;
  invoice_id?: string;
  amount?: string; // unbilled usage: what the next invoice run adds for it
  detail: string;
}

/**
 * Events vs ClickHouse vs invoices vs Stripe for one month, each compared with the next, with
 * every difference listed. Read-only: it changes nothing, so it can run at any time.
 */
@Injectable()
export class ReconciliationService {
  constructor(
    private readonly kafkaConfig: KafkaConfig,
    private readonly stripeConfig: StripeConfig,
    private readonly kafka: KafkaAdmin,
    private readonly events: UsageEventsRepository,
    private readonly rollups: UsageRollupsRepository,
    private readonly invoices: InvoicesRepository,
    private readonly calculator: InvoiceCalculator,
    private readonly stripe: StripeApiService,
    private readonly storedRows: StoredRows,
    private readonly tracing: LineTracing,
    private readonly retirements: UsageRetirementsRepository,
    private readonly clock: Clock,
  ) {}

  async reconcile(period: BillingPeriod, options: { stripe: boolean }) {
    const differences: Difference[] = [];

    // 1. Kafka → ClickHouse: everything published has been consumed; what was refused is in the DLQ.
    const usage = await this.kafka.topicPosition(
      this.kafka.topics.usageEvents,
      this.kafkaConfig.KAFKA_CONSUMER_GROUP,
    );
    const dlq = await this.kafka.topicPosition(this.kafka.topics.usageEventsDlq);
    // A billing record no projection could apply: the projections lack what Kafka holds.
    const billingDlq = await this.kafka.topicPosition(this.kafka.topics.billingEventsDlq);
    if (billingDlq.held > 0n)
      differences.push({
        check: 'kafka.billing_dead_letters',
        detail: `${billingDlq.held} billing record(s) on ${this.kafka.topics.billingEventsDlq} were applied to no projection (see their error-reason headers)`,
      });
    if (usage.lag! > 0n)
      differences.push({
        check: 'kafka.consumer_lag',
        detail: `${usage.lag} usage messages published but not yet stored (consumer group ${this.kafkaConfig.KAFKA_CONSUMER_GROUP})`,
      });

    // 2. Inside ClickHouse: each event once; the hourly rollups equal the raw events.
    const duplicates = await this.events.duplicateKeys(100, period.startMs, period.endMs + HOUR_MS);
    for (const d of duplicates)
      differences.push({
        check: 'clickhouse.duplicate_event',
        detail: `${d.source} ${d.id} stored ${d.copies} times`,
      });
    const mismatches = await this.rollups.rollupMismatches(period.startMs, period.endMs);
    for (const m of mismatches)
      differences.push({
        check: 'clickhouse.rollup_vs_raw',
        workspace_id: m.workspace_id,
        detail: `raw ${m.expected} vs hourly ${m.found} (GPU-ms/millicore-ms/MiB-ms/events; a retired month's raw figures are those recorded when its raw events were dropped)`,
      });

    // 3. ClickHouse → invoices.
    const stored = await this.invoices.documents({ periods: [period.toString()] });
    const closed = (await this.invoices.closedPeriods()).has(period.toString());
    const unbilled = new Map<string, { lines: number; amount: Money }>();
    const billed = new Set(stored.map((s) => s.document.workspace_id));
    if (closed) {
      // Usage that arrived after the month was invoiced: the next invoice run bills it as adjustments.
      for (const [ws, lines] of await this.calculator.unbilled(period)) {
        const amount = lines.reduce((a, l) => a.plus(l.amount), new Money(0));
        unbilled.set(ws, { lines: lines.length, amount });
        differences.push({
          check: 'invoices.unbilled_usage',
          workspace_id: ws,
          amount: formatAmount(amount),
          detail: `${lines.length} line(s), ${formatAmount(amount)} ${lines.map((l) => l.adjusts?.key).join(', ')} not billed yet: the next invoice run adds them as adjustments`,
        });
      }
    } else {
      // Drafts (or no invoice yet) must equal what the usage comes to now.
      const now = await this.calculator.compute(period);
      for (const doc of now) billed.add(doc.workspace_id);
      // The month-end invoices' drafts (threshold invoices are finalized; the drafts bill the rest).
      const byWs = new Map(
        stored
          .filter((s) => !isThresholdInvoice(s.document))
          .map((s) => [s.document.workspace_id, s.document]),
      );
      for (const doc of now) {
        const have = byWs.get(doc.workspace_id);
        if (!have)
          differences.push({
            check: 'invoices.not_drafted',
            workspace_id: doc.workspace_id,
            detail: `usage comes to ${doc.total}; no invoice drafted yet`,
          });
        else if (have.total !== doc.total)
          differences.push({
            check: 'invoices.stale_draft',
            workspace_id: doc.workspace_id,
            invoice_id: have.id,
            detail: `draft total ${have.total}, usage now comes to ${doc.total}`,
          });
      }
    }

    // A workspace whose plan has no terms in the month is billed at list prices alone.
    for (const w of await this.calculator.plansWithoutTerms(period, billed))
      differences.push({
        check: 'catalog.plan_without_terms',
        workspace_id: w.workspace_id,
        detail: `plan ${w.plan} has no terms in ${period.toString()}: its usage is billed at list prices with no base fee and no plan credits; add the plan's terms from the month's start (POST /v1/catalog/plan-changes) before it is finalized, or move the workspace to a plan in force`,
      });

    // 3b. Finalized lines → their events: each traced line's events are still the ones recorded
    // (an event added, removed or altered in a billed month shows here, against its line).
    const traced = stored.filter((s) => s.finalized);
    if (closed) {
      const later: string[] = [];
      const current = BillingPeriod.containing(this.clock.now());
      for (let p = period.next(); p.compare(current) <= 0; p = p.next()) later.push(p.toString());
      for (const s of await this.invoices.documents({ periods: later, finalizedOnly: true }))
        if (s.document.lines.some((l) => l.adjusts?.period === period.toString())) traced.push(s);
    }
    const retiredMonth = (await this.retirements.retired([monthNumber(period.startMs)])).size > 0;
    const changed = await this.tracing.changedLines(
      traced.map((s) => ({
        ...s,
        document: {
          ...s.document,
          // Only the lines that bill this month: a later invoice's own lines are its month's.
          lines: s.document.lines.filter(
            (l) => (l.adjusts?.period ?? s.document.period) === period.toString(),
          ),
        },
      })),
      retiredMonth ? new Set([period.toString()]) : new Set(),
    );
    for (const c of changed)
      differences.push({
        check: 'invoices.line_events_changed',
        workspace_id: c.workspace_id,
        invoice_id: c.invoice_id,
        detail: c.detail,
      });

    // 4. Invoices → Stripe: each pushed invoice once in Stripe, with our total, no items left over.
    const statuses = await this.invoices.statusRows(stored.map((s) => s.document.id));
    const pushed = statuses.flatMap((r) => (r.type === 'invoice.pushed' ? [r.data] : []));
    const stripeSummary = { checked: 0, skipped: !options.stripe };
    if (options.stripe) {
      const docs = new Map(stored.map((s) => [s.document.id, s.document]));
      await forEachWithConcurrency(pushed, this.stripeConfig.STRIPE_MAX_CONCURRENCY, async (p) => {
        const doc = docs.get(p.invoice_id)!;
        const [held, pending] = await Promise.all([
          this.stripe.listInvoices(p.stripe_customer_id),
          this.stripe.listPendingInvoiceItems(p.stripe_customer_id),
        ]);
        const ours = held.filter((i) => i.metadata?.[META.invoice] === p.invoice_id);
        const cents = toMinorUnits(new Money(doc.total));
        if (ours.length !== 1)
          differences.push({
            check: 'stripe.invoice_count',
            workspace_id: doc.workspace_id,
            invoice_id: p.invoice_id,
            detail: `Stripe holds ${ours.length} invoices for it (${ours.map((i) => i.id).join(', ')})`,
          });
        for (const i of ours.filter((x) => x.total !== cents))
          differences.push({
            check: 'stripe.invoice_total',
            workspace_id: doc.workspace_id,
            invoice_id: p.invoice_id,
            detail: `Stripe invoice ${i.id} totals ${i.total} cents, ours ${cents}`,
          });
        const leftOver = pending.filter((i) => i.metadata?.[META.invoice] === p.invoice_id);
        if (leftOver.length > 0)
          differences.push({
            check: 'stripe.items_left_over',
            workspace_id: doc.workspace_id,
            invoice_id: p.invoice_id,
            detail: `${leftOver.length} invoice item(s) of it are pending, on no invoice: ${leftOver.map((i) => i.metadata?.[META.line]).join(', ')}`,
          });
        stripeSummary.checked++;
      });
    }

    // Stored rows a reader skipped (in this process), e.g. a closed period no parser accepts.
    const unreadable = this.storedRows.unreadable();
    for (const u of unreadable)
      differences.push({
        check: 'clickhouse.unreadable_row',
        detail: `${u.table} ${u.row}: ${u.detail} (skipped ${u.times} time(s) since ${u.first_seen})`,
      });

    return {
      period: period.toString(),
      checked_at: this.clock.date().toISOString(),
      ok: differences.length === 0,
      kafka: {
        usage_messages: usage.held.toString(),
        usage_consumer_lag: usage.lag!.toString(),
        dead_lettered: dlq.held.toString(),
        billing_dead_lettered: billingDlq.held.toString(),
      },
      clickhouse: {
        duplicate_events: duplicates.length,
        rollup_mismatches: mismatches.length,
        unreadable_rows: unreadable.length,
      },
      invoices: {
        closed,
        count: stored.length,
        finalized: stored.filter((s) => s.finalized).length,
        pushed: pushed.length,
        total: formatAmount(stored.reduce((a, s) => a.plus(s.document.total), new Money(0))),
        unbilled_workspaces: unbilled.size,
        traced_lines_changed: changed.length,
        line_events: retiredMonth ? 'retired' : 'checked',
      },
      stripe: stripeSummary,
      differences,
    };
  }
}
