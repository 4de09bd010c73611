import { Clock } from '../platform/clock';
import { Injectable } from '@nestjs/common';
import { ApiError, ApiErrorCode } from '../common/api-error';
import { BillingPeriod } from '../invoicing/billing-period';
import { Notified, WebhookEndpointsService } from '../webhooks/webhook-endpoints.service';
import { WorkspacesRepository } from '../workspaces/workspaces.repository';
import { AlertKind, BudgetAlertType, KIND_OF } from './budget-alert-events';
import { BudgetAlertsRepository } from './budget-alerts.repository';

const TYPE_OF = Object.fromEntries(Object.entries(KIND_OF).map(([type, kind]) => [kind, type])) as Record<
  AlertKind,
  BudgetAlertType
>;

export interface BudgetAlertView {
  id: string;
  type: BudgetAlertType;
  threshold: number | null;
  monthly_limit: string;
  spend: string;
  decided_at: string;
  /** the workspace's own webhook endpoints it was sent to (cap alerts are not webhooks) */
  notified: Notified[];
}

/** A month's budget alerts for one workspace, each with the endpoints it was sent to. */
@Injectable()
export class BudgetAlertHistory {
  constructor(
    private readonly alerts: BudgetAlertsRepository,
    private readonly webhooks: WebhookEndpointsService,
    private readonly workspaces: WorkspacesRepository,
    private readonly clock: Clock,
  ) {}

  async list(workspaceId: string, period: string | undefined, nowMs = this.clock.now()) {
    if (!(await this.workspaces.findById(workspaceId)))
      throw new ApiError(ApiErrorCode.NotFound, 'workspace not found');
    const month = period ?? BillingPeriod.containing(nowMs).toString();
    const rows = await this.alerts.forWorkspace(workspaceId, month);
    const notified = await this.webhooks.notifications(
      workspaceId,
      rows.map((r) => r.event_id),
    );
    const alerts: BudgetAlertView[] = rows.map((r) => ({
      id: r.event_id,
      type: TYPE_OF[r.kind as AlertKind],
      threshold: r.kind === 'threshold' ? r.threshold : null,
      monthly_limit: r.monthly_limit,
      spend: r.spend,
      decided_at: new Date(r.decided_at_ms).toISOString(),
      notified: notified.get(r.event_id) ?? [],
    }));
    return { workspace_id: workspaceId, period: month, alerts };
  }
}
