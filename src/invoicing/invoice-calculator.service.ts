import { Injectable } from '@nestjs/common';
import { CatalogService } from '../catalog/catalog.service';
import { PlanTerms, PriceCatalog } from '../catalog/price-catalog';
import { rateUsage, RatedCharge, SegmentUsage } from '../catalog/rating';
import { AppConfig } from '../config/app-config';
import { UsageRollupsRepository } from '../metering/usage-rollups.repository';
import { PlanAssignment, planForPeriod, WorkspacesRepository } from '../workspaces/workspaces.repository';
import { BillingPeriod } from './billing-period';
import { InvoiceDocument, InvoiceLine } from './invoice';
import { adjustmentLines, billedForPeriod, buildInvoice, periodLines } from './invoice-builder';
import { InvoicesRepository, StoredInvoice } from './invoices.repository';
import { DAY_MS } from '../common/time';

/**
 * Derives invoices from usage: the one place that turns a period's usage into invoice
 * documents. Invoice runs, the upcoming-invoice preview and current spend all call it, so
 * they show the same numbers.
 */
@Injectable()
export class InvoiceCalculator {
  constructor(
    private readonly config: AppConfig,
    private readonly catalogs: CatalogService,
    private readonly rollups: UsageRollupsRepository,
    private readonly workspaces: WorkspacesRepository,
    private readonly invoices: InvoicesRepository,
  ) {}

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

  private planTerms(
    catalog: PriceCatalog,
    assignments: PlanAssignment[] | undefined,
    period: BillingPeriod,
  ): PlanTerms {
    const name = planForPeriod(assignments, period.startMs);
    const terms = catalog.planAt(name, period.startMs);
    if (!terms) throw new Error(`plan ${name} is not in the catalog for ${period.toString()}`);
    return terms;
  }

  /**
   * Adjustment lines, per workspace, for usage of earlier closed periods recorded after they
   * were invoiced. Only periods late usage can still reach are looked at (EVENT_MAX_AGE_DAYS).
   */
  private async adjustments(
    catalog: PriceCatalog,
    period: BillingPeriod,
    assignments: Map<string, PlanAssignment[]>,
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
      const lines = await this.unbilledLines(catalog, adjusted, period, finalized, assignments, workspaceId);
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
    workspaceId?: string,
  ): Promise<Map<string, InvoiceLine[]>> {
    const name = adjusted.toString();
    const rated = await this.rate(catalog, adjusted, workspaceId);
    const own = new Map(
      finalized.filter((f) => f.document.period === name).map((f) => [f.document.workspace_id, f.document]),
    );
    const later = finalized.filter((f) => f.document.period > name);
    const workspaces = new Set([...rated.keys(), ...own.keys()]);
    for (const f of later)
      if (f.document.lines.some((l) => l.adjusts?.period === name)) workspaces.add(f.document.workspace_id);
    const out = new Map<string, InvoiceLine[]>();
    for (const ws of workspaces) {
      const invoiced = own.get(ws);
      // A workspace that got no invoice for the period is charged no base fee for it now.
      const plan = invoiced?.plan ?? {
        ...this.planTerms(catalog, assignments.get(ws), adjusted),
        base_fee: '0',
      };
      const recomputed = periodLines(ws, name, plan, rated.get(ws) ?? new Map());
      const billed = billedForPeriod(
        name,
        invoiced?.lines ?? [],
        later.filter((f) => f.document.workspace_id === ws).flatMap((f) => f.document.lines),
      );
      const lines = adjustmentLines(ws, invoicePeriod.toString(), name, recomputed, billed);
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
    const current = BillingPeriod.containing(Date.now());
    for (let p = period; p.compare(current) <= 0; p = p.next()) periods.push(p.toString());
    const finalized = await this.invoices.documents({ workspaceId, periods, finalizedOnly: true });
    return this.unbilledLines(catalog, period, period.next(), finalized, assignments, workspaceId);
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
    const adjustments = await this.adjustments(catalog, period, assignments, options.workspaceId);
    const candidates = new Set([...usage.keys(), ...adjustments.keys()]);
    // Workspaces that existed during the period owe their plan's fee even without usage.
    for (const [ws, a] of assignments) if (a[0].effective_from_ms < period.endMs) candidates.add(ws);
    const docs: InvoiceDocument[] = [];
    for (const ws of [...candidates].sort()) {
      if (options.workspaceId !== undefined && ws !== options.workspaceId) continue;
      const doc = buildInvoice({
        workspaceId: ws,
        period,
        plan: this.planTerms(catalog, assignments.get(ws), period),
        charges: usage.get(ws) ?? new Map(),
        adjustments: adjustments.get(ws) ?? [],
        computedAt: options.now ?? new Date(),
      });
      if (doc.lines.length > 0) docs.push(doc);
    }
    return docs;
  }
}
