import { Clock } from '../platform/clock';
import { Injectable } from '@nestjs/common';
import { CatalogService } from '../catalog/catalog.service';
import { PlanTerms, PriceCatalog } from '../catalog/price-catalog';
import { rateUsage, RatedCharge, SegmentUsage } from '../catalog/rating';
import { AppConfig } from '../config/app-config';
import { RatingRow, UsageRollupsRepository } from '../metering/usage-rollups.repository';
import { UsageEventsRepository } from '../metering/usage-events.repository';
import { billingThresholdInForce } from '../workspaces/billing-threshold';
import { Money, parseCents } from '../catalog/money';
import { buildThresholdInvoice, isThresholdInvoice, thresholdReached } from './threshold-invoices';
import { PlanAssignment, planForPeriod, WorkspacesRepository } from '../workspaces/workspaces.repository';
import { BillingPeriod } from './billing-period';
import { InvoiceDocument, InvoiceLine } from './invoice';
import {
  CreditGrant,
  GrantLedger,
  inForceDuring,
  OfferedGrant,
  planGrant,
  unusedBalance,
} from './credit-grants';
import { CreditGrantsRepository } from './credit-grants.repository';
import {
  adjustmentLines,
  billedForPeriod,
  buildInvoice,
  grantConsumption,
  grantIdOfKey,
  grantLineKey,
  periodLines,
} from './invoice-builder';
import { InvoicesRepository, StoredInvoice } from './invoices.repository';
import { DAY_MS } from '../common/time';

/** A workspace's credit grants and what invoices took of them so far. */
interface GrantState {
  grants: CreditGrant[];
  ledger: GrantLedger;
}

/** What a month is billed on when its plan has no terms in it: list prices, nothing else. */
export const withoutTerms = (plan: string): PlanTerms => ({ plan, base_fee: '0', monthly_credits: '0' });

/** Months before the one computed whose drafts a grant's balance waits for, at most. */
const MAX_CHAIN_MONTHS = 12;

/**
 * Derives invoices from usage: the one place that turns a period's usage into invoice
 * documents. Invoice runs, the upcoming-invoice preview and current spend all call it, so
 * they show the same numbers.
 *
 * Credit grants are consumed month by month (credit-grants.ts, src/invoicing/README.md): a
 * month's invoice starts from what every finalized invoice took of each grant (the ledger,
 * projected from invoice.finalized), plus what the months after the last closed one and before
 * it take (computed here as drafts would be), then its adjustment lines for earlier months,
 * then its own usage.
 */
@Injectable()
export class InvoiceCalculator {
  constructor(
    private readonly config: AppConfig,
    private readonly catalogs: CatalogService,
    private readonly rollups: UsageRollupsRepository,
    private readonly workspaces: WorkspacesRepository,
    private readonly invoices: InvoicesRepository,
    private readonly creditGrants: CreditGrantsRepository,
    private readonly events: UsageEventsRepository,
    private readonly clock: Clock,
  ) {}

  /** Every workspace's grants and ledger of finalized consumption (all, or one workspace's). */
  private async grantStates(workspaceId?: string): Promise<Map<string, GrantState>> {
    const [grants, ledgers] = await Promise.all([
      this.creditGrants.grants(workspaceId),
      this.creditGrants.ledgers(workspaceId),
    ]);
    const out = new Map<string, GrantState>();
    for (const ws of new Set([...grants.keys(), ...ledgers.keys()]))
      out.set(ws, { grants: grants.get(ws) ?? [], ledger: ledgers.get(ws) ?? new GrantLedger() });
    return out;
  }

  private static state(states: Map<string, GrantState>, ws: string): GrantState {
    let s = states.get(ws);
    if (!s) states.set(ws, (s = { grants: [], ledger: new GrantLedger() }));
    return s;
  }

  /**
   * The months between the last closed one and `period` consume grants before it: for every
   * workspace with a grant in force in them, their usage is priced as their drafts would be
   * and what it takes is added to the ledger (oldest month first).
   */
  private async chainEarlierMonths(
    catalog: PriceCatalog,
    period: BillingPeriod,
    assignments: Map<string, PlanAssignment[]>,
    states: Map<string, GrantState>,
    workspaceId?: string,
  ): Promise<void> {
    const withGrants = [...states].filter(([, s]) => s.grants.length > 0);
    if (withGrants.length === 0) return;
    const closed = [...(await this.invoices.closedPeriods())]
      .map((p) => BillingPeriod.parse(p)!)
      .filter((p) => p.compare(period) < 0)
      .sort((a, b) => b.compare(a));
    const first = closed.length > 0 ? closed[0].next() : undefined;
    const months: BillingPeriod[] = [];
    for (let p = period.previous(), i = 0; i < MAX_CHAIN_MONTHS; p = p.previous(), i++) {
      if (first !== undefined && p.compare(first) < 0) break;
      if (withGrants.some(([, s]) => s.grants.some((g) => inForceDuring(g, p)))) months.unshift(p);
    }
    if (months.length === 0) return;
    // An invoice of such a month already finalized (its period not closed yet) is in the ledger;
    // so are its threshold invoices, whose part the month as a whole takes again.
    const stored = await this.invoices.documents({
      workspaceId,
      periods: months.map(String),
      finalizedOnly: true,
    });
    const finalized = new Set(
      stored
        .filter((f) => !isThresholdInvoice(f.document))
        .map((f) => `${f.document.workspace_id}/${f.document.period}`),
    );
    const thresholds = InvoiceCalculator.thresholdsOf(stored);
    for (const month of months) {
      const usage = await this.rate(catalog, month, workspaceId);
      for (const [ws, s] of withGrants) {
        if (!s.grants.some((g) => inForceDuring(g, month))) continue;
        if (finalized.has(`${ws}/${month.toString()}`)) continue;
        if (assignments.get(ws) === undefined && !usage.has(ws)) continue;
        const plan = this.planTerms(catalog, assignments.get(ws), month);
        const reserved = InvoiceCalculator.reserveForMonth(
          s,
          thresholds.get(`${ws}/${month.toString()}`) ?? [],
          month,
        );
        const lines = periodLines(
          ws,
          month.toString(),
          plan,
          usage.get(ws) ?? new Map(),
          this.offer(s, ws, month, plan, reserved),
        );
        for (const [id, amount] of grantConsumption(lines, month.toString())) s.ledger.add(id, amount);
      }
    }
  }

  /**
   * The grants usage of `period` may consume, each with what is left of it (the plan's credits
   * first among equals). `reserved`: what the month's threshold invoices took of each (see
   * reserveForMonth) — the month's own again, even of a grant voided since.
   */
  private offer(
    s: GrantState,
    ws: string,
    period: BillingPeriod,
    plan: PlanTerms,
    reserved: ReadonlyMap<string, Money> = new Map(),
  ): OfferedGrant[] {
    return [...s.grants.filter((g) => inForceDuring(g, period)), planGrant(ws, period, plan)].map(
      (grant) => ({
        grant,
        available: unusedBalance(grant, s.ledger.consumedOf(grant.grant_id)).plus(
          grant.voided_at_ms !== null ? (reserved.get(grant.grant_id) ?? 0) : 0,
        ),
      }),
    );
  }

  /**
   * A month billed in parts is allocated whole again (its invoices are its usage so far, or
   * all of it, less what its threshold invoices billed): what those took of each grant is
   * given back to the ledger here and returned, to be taken again by the month as a whole.
   */
  private static reserveForMonth(
    s: GrantState,
    thresholdDocs: readonly InvoiceDocument[],
    period: BillingPeriod,
  ) {
    const reserved = grantConsumption(
      thresholdDocs.flatMap((d) => d.lines),
      period.toString(),
    );
    for (const [id, amount] of reserved) s.ledger.add(id, amount.neg());
    return reserved;
  }

  /** Finalized threshold invoices of these months per `<workspace>/<month>`, in their order. */
  private static thresholdsOf(finalized: readonly StoredInvoice[]): Map<string, InvoiceDocument[]> {
    const out = new Map<string, InvoiceDocument[]>();
    for (const { document: d } of finalized) {
      if (!isThresholdInvoice(d)) continue;
      const k = `${d.workspace_id}/${d.period}`;
      out.set(k, [...(out.get(k) ?? []), d]);
    }
    for (const docs of out.values()) docs.sort((a, b) => a.threshold!.sequence - b.threshold!.sequence);
    return out;
  }

  /** Usage of a period rated per workspace (all workspaces, or one). */
  async rate(
    catalog: PriceCatalog,
    period: BillingPeriod,
    workspaceId?: string,
  ): Promise<Map<string, Map<string, RatedCharge>>> {
    const segments = catalog.segments(period.startMs, period.endMs);
    const rows = await this.rollups.sumForRating(
      period.startMs,
      period.endMs,
      segments.map((s) => s.from_ms),
      workspaceId,
    );
    return InvoiceCalculator.rated(catalog, segments, rows);
  }

  /**
   * The usage of a period that these workspaces' events accepted at or before `upToMs` add up
   * to, rated per workspace (from the raw events: a threshold invoice bills exactly those).
   */
  private async rateAcceptedBy(
    catalog: PriceCatalog,
    period: BillingPeriod,
    upToMs: number,
    workspaceIds: readonly string[],
  ): Promise<Map<string, Map<string, RatedCharge>>> {
    const segments = catalog.segments(period.startMs, period.endMs);
    const rows = await this.events.sumForRatingAcceptedBy(segments, workspaceIds, upToMs);
    return InvoiceCalculator.rated(catalog, segments, rows);
  }

  private static rated(
    catalog: PriceCatalog,
    segments: ReturnType<PriceCatalog['segments']>,
    rows: readonly RatingRow[],
  ): Map<string, Map<string, RatedCharge>> {
    const byWorkspace = new Map<string, SegmentUsage[]>();
    for (const r of rows) {
      const list = byWorkspace.get(r.workspace_id) ?? [];
      list.push({
        segment: Number(r.segment),
        gpu_type: r.gpu_type,
        app_id: r.app_id,
        function_id: r.function_id,
        gpu_ms: BigInt(r.gpu_ms),
        cpu_millicore_ms: BigInt(r.cpu_millicore_ms),
        memory_mib_ms: BigInt(r.memory_mib_ms),
      });
      byWorkspace.set(r.workspace_id, list);
    }
    const out = new Map<string, Map<string, RatedCharge>>();
    for (const [ws, usage] of byWorkspace) out.set(ws, rateUsage(catalog, segments, usage));
    return out;
  }

  /**
   * The plan terms a workspace's month is billed on: its plan's terms for the month
   * (PriceCatalog.planTermsDuring). A plan with no terms before the month ends — a workspace
   * put on a plan not yet in force, which only builds before issue 24 accepted — bills the
   * month's usage at list prices with no base fee and no plan credits (other grants still
   * apply); reconciliation names it (`catalog.plan_without_terms`) and it never stops a run or
   * a reader for the other workspaces (src/invoicing/README.md#plans-without-terms).
   */
  private planTerms(
    catalog: PriceCatalog,
    assignments: PlanAssignment[] | undefined,
    period: BillingPeriod,
  ): PlanTerms {
    const name = planForPeriod(assignments, period.startMs);
    return catalog.planTermsDuring(name, period.startMs, period.endMs) ?? withoutTerms(name);
  }

  /** The plan terms one workspace's `period` is billed on (see planTerms). */
  async planTermsOf(workspaceId: string, period: BillingPeriod): Promise<PlanTerms> {
    const catalog = await this.catalogs.load();
    const assignments = await this.workspaces.planAssignments(workspaceId);
    return this.planTerms(catalog, assignments.get(workspaceId), period);
  }

  /**
   * Workspaces whose plan has no terms in `period` (see planTerms), of those that existed during
   * it or are `billed` for it (usage of a month before a workspace's creation is billed too).
   */
  async plansWithoutTerms(
    period: BillingPeriod,
    billed: Iterable<string> = [],
  ): Promise<Array<{ workspace_id: string; plan: string }>> {
    const catalog = await this.catalogs.load();
    const billedIds = new Set(billed);
    const out: Array<{ workspace_id: string; plan: string }> = [];
    for (const [ws, a] of await this.workspaces.planAssignments()) {
      if (a[0].effective_from_ms >= period.endMs && !billedIds.has(ws)) continue;
      const plan = planForPeriod(a, period.startMs);
      if (catalog.planTermsDuring(plan, period.startMs, period.endMs) === undefined)
        out.push({ workspace_id: ws, plan });
    }
    return out;
  }

  /**
   * Adjustment lines, per workspace, for usage of earlier closed periods recorded after they
   * were invoiced. Only periods late usage can still reach are looked at (EVENT_MAX_AGE_DAYS).
   */
  private async adjustments(
    catalog: PriceCatalog,
    period: BillingPeriod,
    assignments: Map<string, PlanAssignment[]>,
    states: Map<string, GrantState>,
    workspaceId?: string,
  ): Promise<Map<string, InvoiceLine[]>> {
    const horizon = period.startMs - (this.config.EVENT_MAX_AGE_DAYS + 62) * DAY_MS;
    const closed = [...(await this.invoices.closedPeriods())]
      .map((p) => BillingPeriod.parse(p)!) // closedPeriods() holds parseable periods only
      .filter((p) => p.compare(period) < 0 && p.endMs > horizon)
      .sort((a, b) => a.compare(b));
    const out = new Map<string, InvoiceLine[]>();
    if (closed.length === 0) return out;
    const between: string[] = [];
    for (let p = closed[0]; p.compare(period) < 0; p = p.next()) between.push(p.toString());
    const finalized = await this.invoices.documents({ workspaceId, periods: between, finalizedOnly: true });
    for (const adjusted of closed) {
      const lines = await this.unbilledLines(
        catalog,
        adjusted,
        period,
        finalized,
        assignments,
        states,
        workspaceId,
      );
      for (const [ws, l] of lines) out.set(ws, [...(out.get(ws) ?? []), ...l]);
    }
    return out;
  }

  /**
   * Per workspace, what a closed period's usage comes to now minus everything already billed
   * for it (its invoice and adjustments on later ones), as adjustment lines on `invoicePeriod`'s
   * invoice; a workspace with nothing outstanding is absent. `finalized`: the finalized
   * invoices of the period and of every later one.
   */
  private async unbilledLines(
    catalog: PriceCatalog,
    adjusted: BillingPeriod,
    invoicePeriod: BillingPeriod,
    finalized: StoredInvoice[],
    assignments: Map<string, PlanAssignment[]>,
    states: Map<string, GrantState>,
    workspaceId?: string,
  ): Promise<Map<string, InvoiceLine[]>> {
    const name = adjusted.toString();
    const rated = await this.rate(catalog, adjusted, workspaceId);
    // The period's own invoices: its month-end invoice and any threshold invoices before it.
    const own = new Map<string, InvoiceDocument[]>();
    for (const f of finalized.filter((f) => f.document.period === name))
      own.set(f.document.workspace_id, [...(own.get(f.document.workspace_id) ?? []), f.document]);
    const later = finalized.filter((f) => f.document.period > name);
    const workspaces = new Set([...rated.keys(), ...own.keys()]);
    for (const f of later)
      if (f.document.lines.some((l) => l.adjusts?.period === name)) workspaces.add(f.document.workspace_id);
    const out = new Map<string, InvoiceLine[]>();
    for (const ws of workspaces) {
      const invoiced = own.get(ws) ?? [];
      const main = invoiced.find((d) => !isThresholdInvoice(d)) ?? invoiced[0];
      // A workspace that got no invoice for the period is charged no base fee for it now.
      const plan = main?.plan ?? {
        ...this.planTerms(catalog, assignments.get(ws), adjusted),
        base_fee: '0',
      };
      const billed = billedForPeriod(
        name,
        invoiced.flatMap((d) => d.lines),
        later.filter((f) => f.document.workspace_id === ws).flatMap((f) => f.document.lines),
      );
      // Late usage consumes the grants that were in force in its month, in their order, from
      // what is left of them now: each may give the period what it gave before, and more up to
      // its unused balance (never more than the grant, never taken back).
      const s = InvoiceCalculator.state(states, ws);
      const offered = this.offer(s, ws, adjusted, plan).map(({ grant, available }) => {
        const before = billed.get(grantLineKey(grant));
        return { grant, available: available.plus(before ? before.amount.neg() : 0) };
      });
      const recomputed = periodLines(ws, name, plan, rated.get(ws) ?? new Map(), offered);
      const lines = adjustmentLines(ws, invoicePeriod.toString(), name, recomputed, billed);
      for (const [id, amount] of grantConsumption(lines, name)) s.ledger.add(id, amount);
      if (lines.length > 0) out.set(ws, lines);
    }
    return out;
  }

  /**
   * For reconciliation: a closed period's usage not billed yet (it arrived after the period
   * was invoiced), per workspace, as the adjustment lines the next invoice run would add.
   */
  async unbilled(period: BillingPeriod, workspaceId?: string): Promise<Map<string, InvoiceLine[]>> {
    const catalog = await this.catalogs.load();
    const assignments = await this.workspaces.planAssignments(workspaceId);
    const periods: string[] = [];
    const current = BillingPeriod.containing(this.clock.now());
    for (let p = period; p.compare(current) <= 0; p = p.next()) periods.push(p.toString());
    const finalized = await this.invoices.documents({ workspaceId, periods, finalizedOnly: true });
    const states = await this.grantStates(workspaceId);
    return this.unbilledLines(catalog, period, period.next(), finalized, assignments, states, workspaceId);
  }

  /**
   * Every invoice of a period (or one workspace's), computed from the usage and catalog as
   * they are now. Workspaces with nothing to charge get no invoice.
   */
  async compute(
    period: BillingPeriod,
    options: { workspaceId?: string; now?: Date } = {},
  ): Promise<InvoiceDocument[]> {
    const catalog = await this.catalogs.load();
    const assignments = await this.workspaces.planAssignments(options.workspaceId);
    const usage = await this.rate(catalog, period, options.workspaceId);
    const states = await this.grantStates(options.workspaceId);
    await this.chainEarlierMonths(catalog, period, assignments, states, options.workspaceId);
    // Balances before this invoice (for its credit_grants), then its adjustments take their part.
    const before = new Map([...states].map(([ws, s]) => [ws, s.ledger.copy()]));
    const adjustments = await this.adjustments(catalog, period, assignments, states, options.workspaceId);
    const thresholds = InvoiceCalculator.thresholdsOf(
      await this.invoices.documents({
        workspaceId: options.workspaceId,
        periods: [period.toString()],
        finalizedOnly: true,
      }),
    );
    const candidates = new Set([...usage.keys(), ...adjustments.keys()]);
    for (const k of thresholds.keys()) candidates.add(k.split('/')[0]);
    // Workspaces that existed during the period owe their plan's fee even without usage.
    for (const [ws, a] of assignments) if (a[0].effective_from_ms < period.endMs) candidates.add(ws);
    const docs: InvoiceDocument[] = [];
    for (const ws of [...candidates].sort()) {
      if (options.workspaceId !== undefined && ws !== options.workspaceId) continue;
      const plan = this.planTerms(catalog, assignments.get(ws), period);
      const s = InvoiceCalculator.state(states, ws);
      const billedBefore = thresholds.get(`${ws}/${period.toString()}`) ?? [];
      const offered = this.offer(
        s,
        ws,
        period,
        plan,
        InvoiceCalculator.reserveForMonth(s, billedBefore, period),
      );
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
   * The credits each workspace's usage of `period` got, in whole cents: the credit lines that
   * bill the month on finalized invoices (its own, threshold invoices', and credit adjustments
   * for it on later invoices), plus, for a workspace whose month-end invoice is not finalized
   * yet, the credit lines of that invoice as a run would compute it now.
   */
  async creditsForMonth(period: BillingPeriod, nowMs = this.clock.now()): Promise<Map<string, bigint>> {
    const month = period.toString();
    const periods: string[] = [];
    for (let p = period; p.compare(BillingPeriod.containing(nowMs)) <= 0; p = p.next())
      periods.push(p.toString());
    const finalized = await this.invoices.documents({ periods, finalizedOnly: true });
    const out = new Map<string, bigint>();
    const take = (ws: string, amount: string) => out.set(ws, (out.get(ws) ?? 0n) - parseCents(amount));
    const closedFor = new Set<string>();
    for (const { document: d } of finalized) {
      if (d.period === month && !isThresholdInvoice(d)) closedFor.add(d.workspace_id);
      for (const l of d.lines) {
        if (d.period === month && l.kind === 'credits') take(d.workspace_id, l.amount);
        const key = l.adjusts?.period === month ? l.adjusts.key : undefined;
        if (key !== undefined && grantIdOfKey(key, month) !== undefined) take(d.workspace_id, l.amount);
      }
    }
    // A closed month's late usage gets its credits as adjustments, when they are finalized.
    if ((await this.invoices.closedPeriods()).has(month)) return out;
    for (const doc of await this.compute(period))
      if (!closedFor.has(doc.workspace_id))
        for (const l of doc.lines) if (l.kind === 'credits') take(doc.workspace_id, l.amount);
    return out;
  }

  /** The finalized threshold invoices of a period per workspace (all, or one), in their order. */
  async finalizedThresholds(
    period: BillingPeriod,
    workspaceId?: string,
  ): Promise<Map<string, InvoiceDocument[]>> {
    const byKey = InvoiceCalculator.thresholdsOf(
      await this.invoices.documents({ workspaceId, periods: [period.toString()], finalizedOnly: true }),
    );
    return new Map([...byKey].map(([k, docs]) => [k.split('/')[0], docs]));
  }

  /** The workspaces held to a billing threshold in `period` (their own, or their plan's), with it. */
  private async heldToThresholds(
    catalog: PriceCatalog,
    period: BillingPeriod,
    assignments: Map<string, PlanAssignment[]>,
    workspaceIds?: readonly string[],
  ): Promise<Map<string, string>> {
    const own = await this.workspaces.billingThresholds();
    const held = new Map<string, string>();
    for (const ws of assignments.keys()) {
      if (workspaceIds !== undefined && !workspaceIds.includes(ws)) continue;
      const plan = planForPeriod(assignments.get(ws), period.startMs);
      const t = billingThresholdInForce(own, ws, catalog, plan, period.startMs).billing_threshold;
      if (t !== null) held.set(ws, t);
    }
    return held;
  }

  /** Whether any workspace is held to a billing threshold in `period` (cheap: no usage read). */
  async anyThresholds(period: BillingPeriod): Promise<boolean> {
    const catalog = await this.catalogs.load();
    const held = await this.heldToThresholds(catalog, period, await this.workspaces.planAssignments());
    return held.size > 0;
  }

  /**
   * The next threshold invoice of `period` for every workspace held to a billing threshold
   * (its own, or its plan's) whose month is not finalized, each with whether it is due — its
   * total, the month's spend not billed yet, reached the threshold. Usage as the rollups hold
   * it now (`acceptedByMs` undefined: to find the candidates cheaply), or exactly the events
   * accepted at or before `acceptedByMs` (the invoices to finalize).
   */
  async thresholdInvoices(
    period: BillingPeriod,
    options: { acceptedByMs?: number; workspaceIds?: readonly string[]; now?: Date } = {},
  ): Promise<Array<{ doc: InvoiceDocument; due: boolean }>> {
    const catalog = await this.catalogs.load();
    const assignments = await this.workspaces.planAssignments();
    const held = await this.heldToThresholds(catalog, period, assignments, options.workspaceIds);
    if (held.size === 0) return [];
    const stored = await this.invoices.documents({ periods: [period.toString()], finalizedOnly: true });
    const closedFor = new Set(
      stored.filter((f) => !isThresholdInvoice(f.document)).map((f) => f.document.workspace_id),
    );
    for (const ws of closedFor) held.delete(ws);
    const thresholds = InvoiceCalculator.thresholdsOf(stored);
    const usage =
      options.acceptedByMs === undefined
        ? await this.rate(catalog, period)
        : await this.rateAcceptedBy(catalog, period, options.acceptedByMs, [...held.keys()].sort());
    const states = await this.grantStates();
    await this.chainEarlierMonths(catalog, period, assignments, states);
    const out: Array<{ doc: InvoiceDocument; due: boolean }> = [];
    for (const [ws, billingThreshold] of [...held].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const charges = usage.get(ws);
      if (charges === undefined) continue;
      const plan = this.planTerms(catalog, assignments.get(ws), period);
      const s = InvoiceCalculator.state(states, ws);
      const earlier = thresholds.get(`${ws}/${period.toString()}`) ?? [];
      const before = s.ledger.copy();
      const offered = this.offer(s, ws, period, plan, InvoiceCalculator.reserveForMonth(s, earlier, period));
      const doc = buildThresholdInvoice({
        workspaceId: ws,
        period,
        plan,
        charges,
        grants: offered,
        grantBalances: offered.map(({ grant }) => ({
          grant,
          balance: unusedBalance(grant, before.consumedOf(grant.grant_id)),
        })),
        earlier,
        billingThreshold,
        usageAsOfMs: options.acceptedByMs ?? (options.now ?? this.clock.date()).getTime(),
        computedAt: options.now ?? this.clock.date(),
      });
      out.push({ doc, due: thresholdReached(doc, billingThreshold) });
    }
    return out;
  }
}
