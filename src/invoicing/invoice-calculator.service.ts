import { Injectable } from '@nestjs/common';
import { IngestionConfig } from '../ingestion/ingestion.config';
import { parseCents } from '../catalog/money';
import { PlanTerms, PriceCatalog } from '../catalog/price-catalog';
import { DAY_MS } from '../common/time';
import { Clock } from '../platform/clock';
import { PlanAssignment, planForPeriod } from '../workspaces/workspaces.repository';
import { BillingPeriod } from './billing-period';
import { GrantLedger, unusedBalance } from './credit-grants';
import {
  consumeMonth,
  GrantState,
  monthsToChain,
  offerGrants,
  planTermsFor,
  reserveForMonth,
  stateOf,
  thresholdsByMonth,
} from './grant-allocation';
import { InvoiceDocument, InvoiceLine } from './invoice';
import { buildInvoice } from './invoice-builder';
import { grantConsumption, grantIdOfKey } from './invoice-lines';
import { adjustablePeriods, unbilledLines } from './late-usage';
import { PeriodInputs } from './period-inputs';
import { isThresholdInvoice } from './threshold-invoices';

export { withoutTerms } from './grant-allocation';

/**
 * Derives invoices from usage: the one place that turns a period's usage into invoice
 * documents. Invoice runs, the upcoming-invoice preview and current spend all call it, so
 * they show the same numbers. It loads a period's inputs (PeriodInputs) and composes the pure
 * steps, in this order for a month:
 *
 * 1. the ledger of what finalized invoices took of each credit grant;
 * 2. the months after the last closed one and before this one take their part, computed as
 *    their drafts would be (grant-allocation.ts: monthsToChain, consumeMonth);
 * 3. adjustment lines for late usage of earlier closed months (late-usage.ts);
 * 4. the month's own usage, less what its threshold invoices billed (invoice-builder.ts).
 *
 * Threshold invoices (mid-month) are threshold-invoice-calculator.service.ts.
 */
@Injectable()
export class InvoiceCalculator {
  constructor(
    private readonly inputs: PeriodInputs,
    private readonly config: IngestionConfig,
    private readonly clock: Clock,
  ) {}

  /**
   * Every invoice of a period (or one workspace's), computed from the usage and catalog as
   * they are now. Workspaces with nothing to charge get no invoice.
   */
  async compute(
    period: BillingPeriod,
    options: { workspaceId?: string; now?: Date } = {},
  ): Promise<InvoiceDocument[]> {
    const { workspaceId } = options;
    const catalog = await this.inputs.catalog();
    const assignments = await this.inputs.planAssignments(workspaceId);
    const usage = await this.inputs.rated(catalog, period, workspaceId);
    const states = await this.grantStatesBefore(catalog, period, assignments, workspaceId);
    // Balances before this invoice (for its credit_grants), then its adjustments take their part.
    const before = new Map([...states].map(([ws, s]) => [ws, s.ledger.copy()]));
    const adjustments = await this.adjustments(catalog, period, assignments, states, workspaceId);
    const thresholds = thresholdsByMonth(await this.inputs.finalized([period], workspaceId));
    const candidates = new Set([...usage.keys(), ...adjustments.keys()]);
    for (const k of thresholds.keys()) candidates.add(k.split('/')[0]);
    // Workspaces that existed during the period owe their plan's fee even without usage.
    for (const [ws, a] of assignments) if (a[0].effective_from_ms < period.endMs) candidates.add(ws);
    const docs: InvoiceDocument[] = [];
    for (const ws of [...candidates].sort()) {
      if (workspaceId !== undefined && ws !== workspaceId) continue;
      const plan = planTermsFor(catalog, assignments.get(ws), period);
      const s = stateOf(states, ws);
      const billedBefore = thresholds.get(`${ws}/${period.toString()}`) ?? [];
      const offered = offerGrants(s, ws, period, plan, reserveForMonth(s, billedBefore, period));
      // Grants only its adjustment lines drew on (no longer in force this month) are listed too.
      const drawnOn = grantConsumption(adjustments.get(ws) ?? [], period.toString());
      const adjusted = s.grants.filter(
        (g) => drawnOn.has(g.grant_id) && !offered.some((o) => o.grant.grant_id === g.grant_id),
      );
      const ledgerBefore = before.get(ws) ?? new GrantLedger();
      const doc = buildInvoice({
        workspaceId: ws,
        period,
        plan,
        charges: usage.get(ws) ?? new Map(),
        adjustments: adjustments.get(ws) ?? [],
        grants: offered,
        grantBalances: [...offered.map((o) => o.grant), ...adjusted].map((grant) => ({
          grant,
          balance: unusedBalance(grant, ledgerBefore.consumedOf(grant.grant_id)),
        })),
        thresholdInvoices: billedBefore,
        computedAt: options.now ?? this.clock.date(),
      });
      if (doc.lines.length > 0) docs.push(doc);
    }
    return docs;
  }

  /**
   * Every workspace's grant state as `period` starts: the ledger of finalized invoices, plus
   * what the months between the last closed one and `period` take as their drafts would.
   */
  async grantStatesBefore(
    catalog: PriceCatalog,
    period: BillingPeriod,
    assignments: ReadonlyMap<string, PlanAssignment[]>,
    workspaceId?: string,
  ): Promise<Map<string, GrantState>> {
    const states = await this.inputs.grantStates(workspaceId);
    if (![...states.values()].some((s) => s.grants.length > 0)) return states;
    const months = monthsToChain(period, await this.inputs.closedPeriods(), states);
    // An invoice of such a month already finalized (its period not closed yet) is in the ledger;
    // so are its threshold invoices, whose part the month as a whole takes again.
    const finalized = await this.inputs.finalized(months, workspaceId);
    for (const month of months) {
      const usage = await this.inputs.rated(catalog, month, workspaceId);
      consumeMonth({ month, catalog, usage, assignments, states, finalized });
    }
    return states;
  }

  /**
   * Adjustment lines, per workspace, for usage of earlier closed periods recorded after they
   * were invoiced. Only periods late usage can still reach are looked at (EVENT_MAX_AGE_DAYS).
   */
  private async adjustments(
    catalog: PriceCatalog,
    period: BillingPeriod,
    assignments: ReadonlyMap<string, PlanAssignment[]>,
    states: Map<string, GrantState>,
    workspaceId?: string,
  ): Promise<Map<string, InvoiceLine[]>> {
    const horizon = period.startMs - (this.config.EVENT_MAX_AGE_DAYS + 62) * DAY_MS;
    const closed = adjustablePeriods(await this.inputs.closedPeriods(), period, horizon);
    const out = new Map<string, InvoiceLine[]>();
    if (closed.length === 0) return out;
    const finalized = await this.inputs.finalized(monthsFrom(closed[0], period.previous()), workspaceId);
    for (const adjusted of closed) {
      const rated = await this.inputs.rated(catalog, adjusted, workspaceId);
      const lines = unbilledLines({
        catalog,
        adjusted,
        invoicePeriod: period,
        finalized,
        assignments,
        states,
        rated,
      });
      for (const [ws, l] of lines) out.set(ws, [...(out.get(ws) ?? []), ...l]);
    }
    return out;
  }

  /**
   * For reconciliation: a closed period's usage not billed yet (it arrived after the period
   * was invoiced), per workspace, as the adjustment lines the next invoice run would add.
   */
  async unbilled(period: BillingPeriod, workspaceId?: string): Promise<Map<string, InvoiceLine[]>> {
    const catalog = await this.inputs.catalog();
    const current = BillingPeriod.containing(this.clock.now());
    return unbilledLines({
      catalog,
      adjusted: period,
      invoicePeriod: period.next(),
      finalized: await this.inputs.finalized(monthsFrom(period, current), workspaceId),
      assignments: await this.inputs.planAssignments(workspaceId),
      states: await this.inputs.grantStates(workspaceId),
      rated: await this.inputs.rated(catalog, period, workspaceId),
    });
  }

  /** The plan terms one workspace's `period` is billed on (grant-allocation.ts: planTermsFor). */
  async planTermsOf(workspaceId: string, period: BillingPeriod): Promise<PlanTerms> {
    const catalog = await this.inputs.catalog();
    const assignments = await this.inputs.planAssignments(workspaceId);
    return planTermsFor(catalog, assignments.get(workspaceId), period);
  }

  /**
   * Workspaces whose plan has no terms in `period` (see planTermsFor), of those that existed
   * during it or are `billed` for it (usage of a month before a workspace's creation is billed too).
   */
  async plansWithoutTerms(
    period: BillingPeriod,
    billed: Iterable<string> = [],
  ): Promise<Array<{ workspace_id: string; plan: string }>> {
    const catalog = await this.inputs.catalog();
    const billedIds = new Set(billed);
    const out: Array<{ workspace_id: string; plan: string }> = [];
    for (const [ws, a] of await this.inputs.planAssignments()) {
      if (a[0].effective_from_ms >= period.endMs && !billedIds.has(ws)) continue;
      const plan = planForPeriod(a, period.startMs);
      if (catalog.planTermsDuring(plan, period.startMs, period.endMs) === undefined)
        out.push({ workspace_id: ws, plan });
    }
    return out;
  }

  /** The finalized threshold invoices of a period per workspace (all, or one), in their order. */
  async finalizedThresholds(
    period: BillingPeriod,
    workspaceId?: string,
  ): Promise<Map<string, InvoiceDocument[]>> {
    const byKey = thresholdsByMonth(await this.inputs.finalized([period], workspaceId));
    return new Map([...byKey].map(([k, docs]) => [k.split('/')[0], docs]));
  }

  /**
   * The credits each workspace's usage of `period` got, in whole cents: the credit lines that
   * bill the month on finalized invoices (its own, threshold invoices', and credit adjustments
   * for it on later invoices), plus, for a workspace whose month-end invoice is not finalized
   * yet, the credit lines of that invoice as a run would compute it now.
   */
  async creditsForMonth(period: BillingPeriod, nowMs = this.clock.now()): Promise<Map<string, bigint>> {
    const month = period.toString();
    const finalized = await this.inputs.finalized(monthsFrom(period, BillingPeriod.containing(nowMs)));
    const out = new Map<string, bigint>();
    const take = (ws: string, amount: string) => out.set(ws, (out.get(ws) ?? 0n) - parseCents(amount));
    const closedFor = new Set<string>();
    for (const d of finalized) {
      if (d.period === month && !isThresholdInvoice(d)) closedFor.add(d.workspace_id);
      for (const l of d.lines) {
        if (d.period === month && l.kind === 'credits') take(d.workspace_id, l.amount);
        const key = l.adjusts?.period === month ? l.adjusts.key : undefined;
        if (key !== undefined && grantIdOfKey(key, month) !== undefined) take(d.workspace_id, l.amount);
      }
    }
    // A closed month's late usage gets its credits as adjustments, when they are finalized.
    if (await this.inputs.isClosed(period)) return out;
    for (const doc of await this.compute(period))
      if (!closedFor.has(doc.workspace_id))
        for (const l of doc.lines) if (l.kind === 'credits') take(doc.workspace_id, l.amount);
    return out;
  }
}

/** The months from `first` to `last`, both included (none when `last` is before `first`). */
export function monthsFrom(first: BillingPeriod, last: BillingPeriod): BillingPeriod[] {
  const out: BillingPeriod[] = [];
  for (let p = first; p.compare(last) <= 0; p = p.next()) out.push(p);
  return out;
}
