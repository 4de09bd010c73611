import { Clock } from '../platform/clock';
import { BudgetsConfig } from './budgets.config';
import { MetricsService } from '../platform/metrics/metrics.service';
import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Money } from '../catalog/money';
import { BillingPeriod } from '../invoicing/billing-period';
import { InvoiceDocument } from '../invoicing/invoice';
import { InvoiceCalculator } from '../invoicing/invoice-calculator.service';
import { spendFigures } from '../invoicing/spend';
import { BillingEvent, newBillingEvent } from '../platform/billing-events/billing-event';
import { BillingEventsService } from '../platform/billing-events/billing-events.service';
import { describeError } from '../platform/errors/describe-error';
import { UsageStoredSignal } from '../platform/usage-stored-signal';
import { WorkspacesRepository } from '../workspaces/workspaces.repository';
import { alertsDue } from './budget-alerts';
import { BudgetAlertsRepository } from './budget-alerts.repository';

/** Above this many workspaces to look at, one pass rates them all (one query) instead of one by one. */
const ONE_PASS_AT = 20;
const FULL_SWEEP_MS = 60_000;

/**
 * Decides budget alerts as usage is stored (roles `consumer` and `all`, beside the usage
 * consumer): every BUDGET_ALERT_INTERVAL_SECONDS the workspaces that got usage since the last
 * look and have a budget are priced by the same calculator as GET /v1/spend/current, and each
 * alert due is published once as a billing event with a deterministic id
 * (`alert:<ws>:<period>:<limit>:<threshold|kind>`). A full sweep every minute catches what no
 * usage triggers (a limit lowered below the spend). Replays never run this: they decide nothing.
 */
@Injectable()
export class BudgetAlertEvaluator implements OnApplicationShutdown {
  private readonly logger = new Logger(BudgetAlertEvaluator.name);
  private dirty = new Set<string>();
  private timer?: NodeJS.Timeout;
  private lastFullSweep = 0;
  private evaluating = false;

  constructor(
    private readonly config: BudgetsConfig,
    private readonly signal: UsageStoredSignal,
    private readonly workspaces: WorkspacesRepository,
    private readonly calculator: InvoiceCalculator,
    private readonly alerts: BudgetAlertsRepository,
    private readonly billingEvents: BillingEventsService,
    private readonly metrics: MetricsService,
    private readonly clock: Clock,
  ) {}

  start(): void {
    this.signal.listen((ids) => {
      for (const id of ids) this.dirty.add(id);
    });
    this.timer = setInterval(() => void this.tick(), this.config.BUDGET_ALERT_INTERVAL_SECONDS * 1000);
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async tick(nowMs = this.clock.now()): Promise<number> {
    if (this.evaluating) return 0;
    this.evaluating = true;
    const full = nowMs - this.lastFullSweep >= FULL_SWEEP_MS;
    const dirty = this.dirty;
    this.dirty = new Set();
    try {
      const published = await this.evaluate(full ? 'all' : dirty, new Date(nowMs));
      if (full) this.lastFullSweep = nowMs;
      this.metrics.budgetEvaluations.inc({ scope: full ? 'full' : 'usage' });
      this.metrics.budgetAlertsPublished.inc(published);
      return published;
    } catch (e) {
      for (const id of dirty) this.dirty.add(id); // looked at again next time
      this.logger.error(`budget alerts: evaluation failed, retried next tick: ${describeError(e)}`);
      return 0;
    } finally {
      this.evaluating = false;
    }
  }

  /** Publishes the alerts due for these workspaces (or every budgeted one); returns how many. */
  async evaluate(which: ReadonlySet<string> | 'all', now: Date): Promise<number> {
    const budgets = await this.workspaces.budgets();
    const targets = [...budgets.keys()].filter((ws) => which === 'all' || which.has(ws));
    if (targets.length === 0) return 0;
    const period = BillingPeriod.containing(now.getTime());
    const decided = await this.alerts.decidedIds(period.toString());
    const docs = new Map<string, InvoiceDocument>();
    if (targets.length > ONE_PASS_AT) {
      for (const d of await this.calculator.compute(period, { now })) docs.set(d.workspace_id, d);
    } else {
      for (const ws of targets)
        for (const d of await this.calculator.compute(period, { workspaceId: ws, now })) docs.set(ws, d);
    }
    const thresholds = await this.calculator.finalizedThresholds(period);
    const due: BillingEvent[] = [];
    for (const ws of targets) {
      const doc = docs.get(ws);
      const billed = thresholds.get(ws) ?? [];
      const figures = doc || billed.length > 0 ? spendFigures(doc, now, billed) : undefined;
      for (const alert of alertsDue({
        workspaceId: ws,
        period: period.toString(),
        budget: budgets.get(ws)!,
        spend: figures?.spendSoFar ?? new Money(0),
        forecast: figures?.forecastTotal ?? new Money(0),
        currency: doc?.currency ?? 'usd',
        decided,
      }))
        due.push({ ...newBillingEvent(alert.type, ws, alert.data, now), id: alert.id });
    }
    // Another replica may have decided some a moment ago: the ids make that harmless, this check rare.
    const already = await this.billingEvents.existing(due.map((e) => e.id));
    const fresh = due.filter((e) => !already.has(e.id));
    await this.billingEvents.publishAll(fresh);
    const published = fresh.length;
    return published;
  }
}
