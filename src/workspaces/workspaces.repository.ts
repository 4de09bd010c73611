import { Injectable } from '@nestjs/common';
import { DEFAULT_PLAN } from '../catalog/catalog-seed';
import { Budget } from './budget';
import { WorkspaceBillingThresholdSetData } from './workspace-events';
import { ClickHouseService } from '../platform/clickhouse/clickhouse.service';
import { sql, str } from '../platform/clickhouse/sql';

export interface WorkspaceRow {
  id: string;
  name: string;
  email: string;
  api_key_hash: string;
  api_key_prefix: string;
  created_at_ms: number;
  version: number;
}

export interface PlanAssignment {
  plan: string;
  effective_from_ms: number;
}

/**
 * The plan for a period: the one in force at its start; for a workspace created later,
 * the plan it was created with (the earliest assignment).
 */
export function planForPeriod(
  assignments: readonly PlanAssignment[] | undefined,
  periodStartMs: number,
): string {
  if (!assignments || assignments.length === 0) return DEFAULT_PLAN;
  let plan = assignments[0].plan;
  for (const a of assignments) if (a.effective_from_ms <= periodStartMs) plan = a.plan;
  return plan;
}

/** The `workspaces` projection (migrations/0002). */
@Injectable()
export class WorkspacesRepository {
  constructor(private readonly clickhouse: ClickHouseService) {}

  async upsert(row: WorkspaceRow): Promise<void> {
    await this.clickhouse.insert('workspaces', [row]);
  }

  /** Every workspace id (the allowance's memory). */
  async ids(): Promise<Set<string>> {
    const rows = await this.clickhouse.query<{ id: string }>(sql`SELECT DISTINCT id FROM workspaces`);
    return new Set(rows.map((r) => r.id));
  }

  async findById(id: string): Promise<WorkspaceRow | undefined> {
    const rows = await this.clickhouse.query<WorkspaceRow>(
      sql`SELECT * FROM workspaces FINAL WHERE id = ${str(id)} LIMIT 1`,
    );
    return rows[0] && normalize(rows[0]);
  }

  async assignPlan(
    workspaceId: string,
    plan: string,
    effectiveFromMs: number,
    eventId: string,
  ): Promise<void> {
    await this.clickhouse.insert('workspace_plans', [
      { workspace_id: workspaceId, plan, effective_from_ms: effectiveFromMs, event_id: eventId },
    ]);
  }

  async setBudget(
    workspaceId: string,
    data: { monthly_limit: string | null; thresholds: number[]; enforce?: boolean },
    setAtMs: number,
    eventId: string,
  ): Promise<void> {
    await this.clickhouse.insert('workspace_budgets', [
      {
        workspace_id: workspaceId,
        has_limit: data.monthly_limit === null ? 0 : 1,
        monthly_limit: data.monthly_limit ?? '',
        thresholds: data.thresholds,
        enforce: data.enforce ? 1 : 0,
        set_at_ms: setAtMs,
        event_id: eventId,
      },
    ]);
  }

  async setBillingThreshold(
    workspaceId: string,
    data: WorkspaceBillingThresholdSetData,
    setAtMs: number,
    eventId: string,
  ): Promise<void> {
    await this.clickhouse.insert('workspace_billing_thresholds', [
      {
        workspace_id: workspaceId,
        follows_plan: data.follows_plan ? 1 : 0,
        amount: data.billing_threshold ?? '',
        set_at_ms: setAtMs,
        event_id: eventId,
      },
    ]);
  }

  /**
   * Workspaces' own billing thresholds, per workspace (all, or one): the amount, or null for
   * none at all. A workspace absent here follows its plan's.
   */
  async billingThresholds(workspaceId?: string): Promise<Map<string, string | null>> {
    const where = workspaceId === undefined ? sql`` : sql`AND workspace_id = ${str(workspaceId)}`;
    const rows = await this.clickhouse.query<{ workspace_id: string; amount: string }>(sql`
      SELECT workspace_id, amount FROM workspace_billing_thresholds FINAL
      WHERE follows_plan = 0 ${where}`);
    return new Map(rows.map((r) => [r.workspace_id, r.amount === '' ? null : r.amount]));
  }

  /** The workspace's budget in force; null when none was set or it was removed. */
  async budget(workspaceId: string): Promise<Budget | null> {
    return (await this.budgets(workspaceId)).get(workspaceId) ?? null;
  }

  /** Budgets in force, per workspace (all workspaces, or one). */
  async budgets(workspaceId?: string): Promise<Map<string, Budget>> {
    const where = workspaceId === undefined ? sql`` : sql`AND workspace_id = ${str(workspaceId)}`;
    const rows = await this.clickhouse.query<{
      workspace_id: string;
      has_limit: number;
      monthly_limit: string;
      thresholds: number[];
      enforce: number;
    }>(sql`
      SELECT workspace_id, has_limit, monthly_limit, thresholds, enforce FROM workspace_budgets FINAL
      WHERE has_limit = 1 ${where}`);
    return new Map(
      rows.map((r) => [
        r.workspace_id,
        {
          monthly_limit: r.monthly_limit,
          thresholds: r.thresholds.map(Number),
          enforce: Number(r.enforce) === 1,
        },
      ]),
    );
  }

  /** Every plan assignment, per workspace in effective order (all workspaces, or the ones named). */
  async planAssignments(workspaceId?: string): Promise<Map<string, PlanAssignment[]>> {
    const where = workspaceId === undefined ? sql`` : sql`WHERE workspace_id = ${str(workspaceId)}`;
    const rows = await this.clickhouse.query<{
      workspace_id: string;
      plan: string;
      effective_from_ms: string;
    }>(
      sql`SELECT workspace_id, plan, effective_from_ms FROM workspace_plans FINAL ${where}
          ORDER BY workspace_id, effective_from_ms, event_id`,
    );
    const out = new Map<string, PlanAssignment[]>();
    for (const r of rows) {
      const list = out.get(r.workspace_id) ?? [];
      list.push({ plan: r.plan, effective_from_ms: Number(r.effective_from_ms) });
      out.set(r.workspace_id, list);
    }
    return out;
  }

  async listAll(): Promise<WorkspaceRow[]> {
    const rows = await this.clickhouse.query<WorkspaceRow>(sql`SELECT * FROM workspaces FINAL ORDER BY id`);
    return rows.map(normalize);
  }

  async listIds(): Promise<string[]> {
    const rows = await this.clickhouse.query<{ id: string }>(
      sql`SELECT id FROM workspaces FINAL ORDER BY id`,
    );
    return rows.map((r) => r.id);
  }
}

function normalize(r: WorkspaceRow): WorkspaceRow {
  return { ...r, created_at_ms: Number(r.created_at_ms), version: Number(r.version) };
}
