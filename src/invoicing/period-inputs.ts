import { Injectable } from '@nestjs/common';
import { CatalogService } from '../catalog/catalog.service';
import { PriceCatalog } from '../catalog/price-catalog';
import { RatedCharge, rateUsage, SegmentUsage } from '../catalog/rating';
import { UsageEventsRepository } from '../metering/usage-events.repository';
import { RatingRow, UsageRollupsRepository } from '../metering/usage-rollups.repository';
import { PlanAssignment, WorkspacesRepository } from '../workspaces/workspaces.repository';
import { BillingPeriod } from './billing-period';
import { CreditGrantsRepository } from './credit-grants.repository';
import { GrantState, grantStatesOf } from './grant-allocation';
import { InvoiceDocument } from './invoice';
import { InvoicesRepository } from './invoices.repository';

/** Usage rated per workspace, per line key. */
export type RatedUsage = Map<string, Map<string, RatedCharge>>;

/**
 * Gathers what invoices are computed from — the catalog, plan assignments, rated usage, credit
 * grants and their ledger, closed months, finalized invoices — so that the calculator and the
 * pure functions it calls (grant-allocation.ts, late-usage.ts, threshold-invoices.ts) read no
 * storage themselves. Every method reads; nothing here decides.
 */
@Injectable()
export class PeriodInputs {
  constructor(
    private readonly catalogs: CatalogService,
    private readonly rollups: UsageRollupsRepository,
    private readonly events: UsageEventsRepository,
    private readonly workspaces: WorkspacesRepository,
    private readonly invoices: InvoicesRepository,
    private readonly creditGrants: CreditGrantsRepository,
  ) {}

  catalog(): Promise<PriceCatalog> {
    return this.catalogs.load();
  }

  planAssignments(workspaceId?: string): Promise<Map<string, PlanAssignment[]>> {
    return this.workspaces.planAssignments(workspaceId);
  }

  /** Workspaces' own billing thresholds (null: none at all; absent: their plan's). */
  billingThresholds(): Promise<Map<string, string | null>> {
    return this.workspaces.billingThresholds();
  }

  /** Every workspace's grants and ledger of finalized consumption (all, or one workspace's). */
  async grantStates(workspaceId?: string): Promise<Map<string, GrantState>> {
    const [grants, ledgers] = await Promise.all([
      this.creditGrants.grants(workspaceId),
      this.creditGrants.ledgers(workspaceId),
    ]);
    return grantStatesOf(grants, ledgers);
  }

  /** The closed months (every invoice finalized). */
  async closedPeriods(): Promise<BillingPeriod[]> {
    // closedPeriods() holds parseable periods only.
    return [...(await this.invoices.closedPeriods())].map((p) => BillingPeriod.parse(p)!);
  }

  async isClosed(period: BillingPeriod): Promise<boolean> {
    return (await this.invoices.closedPeriods()).has(period.toString());
  }

  /** The finalized invoice documents of these months (all workspaces', or one's). */
  async finalized(periods: readonly BillingPeriod[], workspaceId?: string): Promise<InvoiceDocument[]> {
    if (periods.length === 0) return [];
    const stored = await this.invoices.documents({
      workspaceId,
      periods: periods.map(String),
      finalizedOnly: true,
    });
    return stored.map((s) => s.document);
  }

  /** Usage of a period as the hourly rollups hold it now, rated per workspace (all, or one). */
  async rated(catalog: PriceCatalog, period: BillingPeriod, workspaceId?: string): Promise<RatedUsage> {
    const segments = catalog.segments(period.startMs, period.endMs);
    const rows = await this.rollups.sumForRating(
      period.startMs,
      period.endMs,
      segments.map((s) => s.from_ms),
      workspaceId,
    );
    return ratedByWorkspace(catalog, segments, rows);
  }

  /**
   * The usage of a period that these workspaces' events accepted at or before `upToMs` add up
   * to, rated per workspace (from the raw events: a threshold invoice bills exactly those).
   */
  async ratedAcceptedBy(
    catalog: PriceCatalog,
    period: BillingPeriod,
    upToMs: number,
    workspaceIds: readonly string[],
  ): Promise<RatedUsage> {
    const segments = catalog.segments(period.startMs, period.endMs);
    const rows = await this.events.sumForRatingAcceptedBy(segments, workspaceIds, upToMs);
    return ratedByWorkspace(catalog, segments, rows);
  }
}

/** Rating rows (usage per workspace, price segment and line) rated per workspace. */
export function ratedByWorkspace(
  catalog: PriceCatalog,
  segments: ReturnType<PriceCatalog['segments']>,
  rows: readonly RatingRow[],
): RatedUsage {
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
  const out: RatedUsage = new Map();
  for (const [ws, usage] of byWorkspace) out.set(ws, rateUsage(catalog, segments, usage));
  return out;
}
