import { forwardRef, Inject, Injectable } from '@nestjs/common';
import { DEFAULT_PLAN } from '../catalog/catalog-seed';
import { CatalogService } from '../catalog/catalog.service';
import { newBillingEvent } from '../platform/billing-events/billing-event';
import { BillingEventsService } from '../platform/billing-events/billing-events.service';
import { ApiError, ApiErrorCode } from '../platform/errors/api-error';
import { apiKeyPrefix, hashApiKey, newWorkspaceApiKey } from './api-keys';
import { formatAmount, Money } from '../catalog/money';
import { DEFAULT_THRESHOLDS } from './budget';
import { ChangePlanDto, CreateWorkspaceDto, SetBudgetDto } from './dto/create-workspace.dto';
import {
  WORKSPACE_BUDGET_SET,
  WORKSPACE_CREATED,
  WORKSPACE_PLAN_CHANGED,
  WorkspaceBudgetSetData,
  WorkspaceCreatedData,
  WorkspacePlanChangedData,
} from './workspace.projection';
import { planForPeriod, WorkspaceRow, WorkspacesRepository } from './workspaces.repository';

export interface WorkspaceView {
  id: string;
  name: string;
  email: string;
  api_key_prefix: string;
  created_at: string;
}

export const toView = (w: WorkspaceRow): WorkspaceView => ({
  id: w.id,
  name: w.name,
  email: w.email,
  api_key_prefix: w.api_key_prefix,
  created_at: new Date(w.created_at_ms).toISOString(),
});

@Injectable()
export class WorkspacesService {
  // One creation at a time per process: the exists-check and the publish must not interleave.
  private creating: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly workspaces: WorkspacesRepository,
    private readonly billingEvents: BillingEventsService,
    @Inject(forwardRef(() => CatalogService)) private readonly catalog: CatalogService,
  ) {}

  private async checkPlan(plan: string): Promise<void> {
    const known = (await this.catalog.load()).knownPlans();
    if (!known.includes(plan)) throw ApiError.invalid('plan', `plan must be one of ${known.join(', ')}`);
  }

  /** Publishes workspace.created and returns the workspace with its API key (the only time it is shown). */
  async create(dto: CreateWorkspaceDto): Promise<WorkspaceView & { api_key: string }> {
    const plan = dto.plan ?? DEFAULT_PLAN;
    await this.checkPlan(plan);
    const run = this.creating.then(async () => {
      if (await this.workspaces.findById(dto.id)) {
        throw new ApiError(ApiErrorCode.Conflict, `workspace ${dto.id} already exists`, [
          { field: 'id', message: 'already exists' },
        ]);
      }
      const apiKey = newWorkspaceApiKey();
      const data: WorkspaceCreatedData = {
        id: dto.id,
        name: dto.name,
        email: dto.email,
        api_key_hash: hashApiKey(apiKey),
        api_key_prefix: apiKeyPrefix(apiKey),
        plan,
      };
      const event = newBillingEvent(WORKSPACE_CREATED, dto.id, data);
      await this.billingEvents.publish(event);
      const created = Date.parse(event.time);
      return {
        ...toView({ ...data, created_at_ms: created, version: created }),
        plan,
        api_key: apiKey,
      };
    });
    this.creating = run.catch(() => undefined);
    return run;
  }

  async get(id: string, nowMs = Date.now()): Promise<WorkspaceView & { plan: string }> {
    const w = await this.workspaces.findById(id);
    if (!w) throw new ApiError(ApiErrorCode.NotFound, 'workspace not found');
    const plans = await this.workspaces.planAssignments(id);
    return { ...toView(w), plan: planForPeriod(plans.get(id), nowMs) };
  }

  /**
   * Publishes workspace.budget_set: a limit on the month's invoice total with alert thresholds
   * (default 50/80/100 %), or its removal (monthly_limit null). In force from now on; spend
   * reads (GET /v1/spend/current) compare against it.
   */
  async setBudget(id: string, dto: SetBudgetDto) {
    await this.get(id);
    const thresholds = [...new Set(dto.thresholds ?? DEFAULT_THRESHOLDS)].sort((a, b) => a - b);
    const data: WorkspaceBudgetSetData = {
      monthly_limit: dto.monthly_limit === null ? null : formatAmount(new Money(dto.monthly_limit)),
      thresholds: dto.monthly_limit === null ? [] : thresholds,
      enforce: dto.monthly_limit !== null && dto.enforce === true,
    };
    await this.billingEvents.publish(newBillingEvent(WORKSPACE_BUDGET_SET, id, data));
    return { workspace_id: id, ...data };
  }

  /** Publishes workspace.plan_changed; a plan change takes effect at the start of a billing period. */
  async changePlan(id: string, dto: ChangePlanDto, nowMs = Date.now()) {
    await this.get(id);
    await this.checkPlan(dto.plan);
    const now = new Date(nowMs);
    const nextPeriod = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
    const at =
      dto.effective_from === undefined ? nextPeriod : await this.catalog.effectiveFrom(dto.effective_from);
    const d = new Date(at);
    if (at !== Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1))
      throw ApiError.invalid('effective_from', 'effective_from must be the start of a month (UTC)');
    const data: WorkspacePlanChangedData = { plan: dto.plan, effective_from: d.toISOString() };
    await this.billingEvents.publish(newBillingEvent(WORKSPACE_PLAN_CHANGED, id, data));
    return { workspace_id: id, ...data };
  }
}
