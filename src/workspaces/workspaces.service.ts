import { Clock } from '../platform/clock';
import { Injectable } from '@nestjs/common';
import { DEFAULT_PLAN } from '../catalog/catalog-seed';
import { CatalogService } from '../catalog/catalog.service';
import { newBillingEvent } from '../platform/billing-events/billing-event';
import { BillingEventsService } from '../platform/billing-events/billing-events.service';
import { ApiError, ApiErrorCode } from '../common/api-error';
import { WorkspaceKeyCreatedData } from '../auth/credential-events';
import { CredentialStore } from '../auth/credential-store.service';
import { apiKeyPrefix, hashApiKey, newCredentialId, newWorkspaceApiKey } from '../auth/credentials';
import { CredentialRow, CredentialsRepository, credentialView } from '../auth/credentials.repository';
import { formatAmount, Money } from '../catalog/money';
import { DEFAULT_THRESHOLDS } from './budget';
import { ChangePlanDto } from './dto/change-plan.dto';
import { CreateWorkspaceDto } from './dto/create-workspace.dto';
import { SetBudgetDto } from './dto/set-budget.dto';
import { SetBillingThresholdDto } from './dto/set-billing-threshold.dto';
import { billingThresholdInForce } from './billing-threshold';
import {
  WorkspaceBillingThresholdSetData,
  WorkspaceBudgetSetData,
  WorkspaceCreatedData,
  WorkspacePlanChangedData,
} from './workspace-events';
import { initialKeyRow } from './workspace.projection';
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

/** How long a creation waits for the billing consumer to decide it (first creation wins). */
const CREATE_CONFIRM_TIMEOUT_MS = 30_000;

export interface WorkspaceKeyView {
  id: string;
  name: string;
  api_key_prefix: string;
  created_at: string;
  revoked_at: string | null;
}

const toKeyView = (row: CredentialRow): WorkspaceKeyView => ({
  ...credentialView(row),
  api_key_prefix: row.secret_prefix,
});

@Injectable()
export class WorkspacesService {
  constructor(
    private readonly workspaces: WorkspacesRepository,
    private readonly billingEvents: BillingEventsService,
    private readonly catalog: CatalogService,
    private readonly credentials: CredentialsRepository,
    private readonly store: CredentialStore,
    private readonly clock: Clock,
  ) {}

  /**
   * A plan is assigned only where it is in force (issue 24): a workspace on a plan whose terms
   * start later would have a month with nothing to bill it on.
   */
  private async checkPlan(plan: string, atMs: number): Promise<void> {
    const catalog = await this.catalog.load();
    const known = catalog.knownPlans();
    if (!known.includes(plan)) throw ApiError.invalid('plan', `plan must be one of ${known.join(', ')}`);
    if (catalog.planAt(plan, atMs) === undefined)
      throw ApiError.invalid(
        'plan',
        `plan ${plan} is not in force at ${new Date(atMs).toISOString()}: its terms start ${new Date(catalog.planStartMs(plan)!).toISOString()}`,
      );
  }

  private static conflict(id: string): ApiError {
    return new ApiError(ApiErrorCode.Conflict, `workspace ${id} already exists`, [
      { field: 'id', message: 'already exists' },
    ]);
  }

  /**
   * Publishes workspace.created and returns the workspace with its API key (the only time it
   * is shown). Two replicas creating one id at once: both events land on the id's partition,
   * the projection keeps the first, and each replica answers only after the consumer has
   * projected its event: 201 if the stored key is its own, 409 if not (issue 10, finding 6).
   */
  async create(dto: CreateWorkspaceDto): Promise<WorkspaceView & { plan: string; api_key: string }> {
    const plan = dto.plan ?? DEFAULT_PLAN;
    await this.checkPlan(plan, this.clock.now());
    if (await this.workspaces.findById(dto.id)) throw WorkspacesService.conflict(dto.id);
    const apiKey = newWorkspaceApiKey();
    const data: WorkspaceCreatedData = {
      id: dto.id,
      name: dto.name,
      email: dto.email,
      api_key_hash: hashApiKey(apiKey),
      api_key_prefix: apiKeyPrefix(apiKey),
      plan,
    };
    const event = newBillingEvent('workspace.created', dto.id, data, this.clock.date());
    try {
      await this.billingEvents.publishAndAwaitProjection(event, CREATE_CONFIRM_TIMEOUT_MS);
    } catch (e) {
      throw new ApiError(
        ApiErrorCode.Unavailable,
        `the creation of ${dto.id} was not confirmed in time (${(e as Error).message}); GET the workspace before retrying`,
      );
    }
    const stored = await this.workspaces.findById(dto.id);
    if (stored?.api_key_hash !== data.api_key_hash) throw WorkspacesService.conflict(dto.id);
    const created = Date.parse(event.time);
    this.store.remember(initialKeyRow(dto.id, data, created));
    return {
      ...toView({ ...data, created_at_ms: created, version: created }),
      plan,
      api_key: apiKey,
    };
  }

  /** A new API key for the workspace; the ones it has keep working until revoked. */
  async createKey(workspaceId: string, name: string | undefined) {
    await this.get(workspaceId);
    const apiKey = newWorkspaceApiKey();
    const data: WorkspaceKeyCreatedData = {
      key_id: newCredentialId('wk'),
      name: name ?? 'unnamed',
      key_hash: hashApiKey(apiKey),
      key_prefix: apiKeyPrefix(apiKey),
    };
    const event = newBillingEvent('workspace.key_created', workspaceId, data, this.clock.date());
    await this.billingEvents.publish(event);
    const row = {
      credential_id: data.key_id,
      kind: 'workspace' as const,
      workspace_id: workspaceId,
      name: data.name,
      sources: [],
      secret_hash: data.key_hash,
      secret_prefix: data.key_prefix,
      created_at_ms: Date.parse(event.time),
    };
    this.store.remember(row);
    return { ...toKeyView({ ...row, revoked_at_ms: null }), workspace_id: workspaceId, api_key: apiKey };
  }

  async listKeys(workspaceId: string): Promise<{ data: WorkspaceKeyView[] }> {
    await this.get(workspaceId);
    return { data: (await this.credentials.list('workspace', workspaceId)).map(toKeyView) };
  }

  /** Refused here at once; on every other replica within one credential reload (≤ 5 s). */
  async revokeKey(workspaceId: string, keyId: string): Promise<void> {
    const key = (await this.credentials.list('workspace', workspaceId)).find(
      (k) => k.credential_id === keyId,
    );
    if (!key) throw new ApiError(ApiErrorCode.NotFound, 'key not found');
    this.store.forget(keyId);
    if (key.revoked_at_ms !== null) return;
    await this.billingEvents.publish(
      newBillingEvent('workspace.key_revoked', workspaceId, { key_id: keyId }, this.clock.date()),
    );
  }

  async get(id: string, nowMs = this.clock.now()): Promise<WorkspaceView & { plan: string }> {
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
    await this.billingEvents.publish(newBillingEvent('workspace.budget_set', id, data, this.clock.date()));
    return { workspace_id: id, ...data };
  }

  /**
   * The billing threshold the workspace's open month is held to: its own, or its plan's (the
   * plan of the month, its terms at the month's start). `justSet`: a change just published,
   * which the projection may not hold yet.
   */
  async billingThreshold(id: string, justSet?: WorkspaceBillingThresholdSetData, nowMs = this.clock.now()) {
    await this.get(id);
    const now = new Date(nowMs);
    const monthStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
    const plan = planForPeriod((await this.workspaces.planAssignments(id)).get(id), monthStart);
    const own =
      justSet === undefined
        ? await this.workspaces.billingThresholds(id)
        : new Map(justSet.follows_plan ? [] : [[id, justSet.billing_threshold]]);
    const inForce = billingThresholdInForce(own, id, await this.catalog.load(), plan, monthStart);
    return { workspace_id: id, ...inForce, plan };
  }

  /**
   * Publishes workspace.billing_threshold_set: the workspace's own threshold (null: none at
   * all), or back to its plan's (`followPlan`). In force for the next threshold check.
   */
  async setBillingThreshold(id: string, dto: SetBillingThresholdDto | { followPlan: true }) {
    await this.get(id);
    const data: WorkspaceBillingThresholdSetData =
      'followPlan' in dto
        ? { billing_threshold: null, follows_plan: true }
        : {
            billing_threshold:
              dto.billing_threshold === null ? null : formatAmount(new Money(dto.billing_threshold)),
            follows_plan: false,
          };
    await this.billingEvents.publish(
      newBillingEvent('workspace.billing_threshold_set', id, data, this.clock.date()),
    );
    return this.billingThreshold(id, data);
  }

  /** Publishes workspace.plan_changed; a plan change takes effect at the start of a billing period. */
  async changePlan(id: string, dto: ChangePlanDto, nowMs = this.clock.now()) {
    await this.get(id);
    const now = new Date(nowMs);
    const nextPeriod = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
    const at =
      dto.effective_from === undefined ? nextPeriod : await this.catalog.effectiveFrom(dto.effective_from);
    const d = new Date(at);
    if (at !== Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1))
      throw ApiError.invalid('effective_from', 'effective_from must be the start of a month (UTC)');
    await this.checkPlan(dto.plan, at);
    const data: WorkspacePlanChangedData = { plan: dto.plan, effective_from: d.toISOString() };
    await this.billingEvents.publish(newBillingEvent('workspace.plan_changed', id, data, this.clock.date()));
    return { workspace_id: id, ...data };
  }
}
