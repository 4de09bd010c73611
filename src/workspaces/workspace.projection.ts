import { Injectable, OnModuleInit } from '@nestjs/common';
import { DEFAULT_PLAN } from '../catalog/catalog-seed';
import { BillingEvent, BillingEventProjection } from '../platform/billing-events/billing-event';
import { BillingEventsService } from '../platform/billing-events/billing-events.service';
import { WorkspacesRepository } from './workspaces.repository';

export interface WorkspaceCreatedData {
  id: string;
  name: string;
  email: string;
  api_key_hash: string;
  api_key_prefix: string;
  plan?: string; // absent in events from before plans: the default plan
}

export interface WorkspacePlanChangedData {
  plan: string;
  effective_from: string;
}

export interface WorkspaceBudgetSetData {
  monthly_limit: string | null; // null: the budget is removed
  thresholds: number[];
}

export const WORKSPACE_CREATED = 'workspace.created';
export const WORKSPACE_PLAN_CHANGED = 'workspace.plan_changed';
export const WORKSPACE_BUDGET_SET = 'workspace.budget_set';

/** Projects workspace.* billing events into `workspaces`, `workspace_plans`, `workspace_budgets`. Idempotent. */
@Injectable()
export class WorkspaceProjection implements BillingEventProjection, OnModuleInit {
  readonly handles = [WORKSPACE_CREATED, WORKSPACE_PLAN_CHANGED, WORKSPACE_BUDGET_SET];

  constructor(
    private readonly workspaces: WorkspacesRepository,
    private readonly billingEvents: BillingEventsService,
  ) {}

  onModuleInit(): void {
    this.billingEvents.register(this);
  }

  async apply(event: BillingEvent): Promise<void> {
    const at = Date.parse(event.time);
    if (event.type === WORKSPACE_BUDGET_SET) {
      await this.workspaces.setBudget(event.subject, event.data as WorkspaceBudgetSetData, at, event.id);
      return;
    }
    if (event.type === WORKSPACE_PLAN_CHANGED) {
      const data = event.data as WorkspacePlanChangedData;
      await this.workspaces.assignPlan(event.subject, data.plan, Date.parse(data.effective_from), event.id);
      return;
    }
    const { plan, ...data } = event.data as WorkspaceCreatedData;
    // version = creation time: the same event applied twice writes the same row.
    await this.workspaces.upsert({ ...data, created_at_ms: at, version: at });
    await this.workspaces.assignPlan(data.id, plan ?? DEFAULT_PLAN, at, event.id);
  }
}
