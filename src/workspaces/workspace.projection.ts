import { Injectable, Logger } from '@nestjs/common';
import { initialKeyId } from '../auth/credentials';
import { CredentialRow, CredentialsRepository } from '../auth/credentials.repository';
import { DEFAULT_PLAN } from '../catalog/catalog-seed';
import { BillingEvent, HandledBy, ProjectionOf } from '../platform/billing-events/billing-event';
import { WorkspaceCreatedData } from './workspace-events';
import { WorkspacesRepository } from './workspaces.repository';

/** The credential of the key a workspace is created with. */
export function initialKeyRow(
  workspaceId: string,
  data: Pick<WorkspaceCreatedData, 'api_key_hash' | 'api_key_prefix'>,
  createdAtMs: number,
): Omit<CredentialRow, 'revoked_at_ms'> {
  return {
    credential_id: initialKeyId(data.api_key_hash),
    kind: 'workspace',
    workspace_id: workspaceId,
    name: 'initial',
    sources: [],
    secret_hash: data.api_key_hash,
    secret_prefix: data.api_key_prefix,
    created_at_ms: createdAtMs,
  };
}

const Base = ProjectionOf(
  'workspace.created',
  'workspace.plan_changed',
  'workspace.budget_set',
  'workspace.billing_threshold_set',
);
type Handled = HandledBy<typeof Base>;

/**
 * Projects workspace.* billing events into `workspaces`, `workspace_plans`,
 * `workspace_budgets`, `workspace_billing_thresholds` and the initial key's `credentials` row. Idempotent. The first
 * workspace.created of an id wins: a later one (another replica's, at the same moment) is
 * passed over, here and in every replay, since both are on the id's partition in one order.
 */
@Injectable()
export class WorkspaceProjection extends Base {
  private readonly logger = new Logger(WorkspaceProjection.name);

  constructor(
    private readonly workspaces: WorkspacesRepository,
    private readonly credentials: CredentialsRepository,
  ) {
    super();
  }

  async apply(events: readonly BillingEvent<Handled>[]): Promise<void> {
    for (const event of events) await this.applyOne(event);
  }

  private async applyOne(event: BillingEvent<Handled>): Promise<void> {
    const at = Date.parse(event.time);
    switch (event.type) {
      case 'workspace.budget_set':
        await this.workspaces.setBudget(event.subject, event.data, at, event.id);
        return;
      case 'workspace.billing_threshold_set':
        await this.workspaces.setBillingThreshold(event.subject, event.data, at, event.id);
        return;
      case 'workspace.plan_changed': {
        const data = event.data;
        await this.workspaces.assignPlan(event.subject, data.plan, Date.parse(data.effective_from), event.id);
        return;
      }
      case 'workspace.created': {
        const { plan, ...data } = event.data;
        const existing = await this.workspaces.findById(data.id);
        if (existing && existing.api_key_hash !== data.api_key_hash) {
          this.logger.warn(`workspace.created ${event.id} for ${data.id} passed over: the workspace exists`);
          return;
        }
        // version = creation time: the same event applied twice writes the same row.
        await this.workspaces.upsert({ ...data, created_at_ms: at, version: at });
        await this.credentials.insert(initialKeyRow(data.id, data, at), event.id);
        await this.workspaces.assignPlan(data.id, plan ?? DEFAULT_PLAN, at, event.id);
        return;
      }
    }
  }
}
