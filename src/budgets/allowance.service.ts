import { Clock } from '../platform/clock';
import { BudgetsConfig } from './budgets.config';
import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { BillingPeriod } from '../invoicing/billing-period';
import { describeError } from '../platform/errors/describe-error';
import { Budget } from '../workspaces/budget';
import { WorkspacesRepository } from '../workspaces/workspaces.repository';
import { BudgetAlertsRepository } from './budget-alerts.repository';

interface AllowanceState {
  period: string;
  workspaces: Set<string>;
  budgets: Map<string, Budget>;
  caps: Map<string, Set<string>>;
  refreshedAt: Date;
}

export interface Allowance {
  workspace_id: string;
  allowed: boolean;
  reason?: 'budget_exceeded';
  period: string;
  monthly_limit: { amount: string; currency: string } | null;
  enforced: boolean;
  as_of: string;
}

/**
 * GET /v1/workspaces/{id}/allowance, answered from memory: the control plane asks on every
 * container start, so no request waits on ClickHouse. The memory is the enforced budgets and
 * the caps reached this month, reloaded from their projections every
 * ALLOWANCE_REFRESH_MILLISECONDS (a cap decided by the alert evaluator is seen within one
 * reload). A workspace is not allowed when its budget is enforced and its current limit's cap
 * was reached this month; raising the limit (a new limit has no cap reached) or a new month
 * allows it again.
 */
@Injectable()
export class AllowanceService implements OnApplicationShutdown {
  private readonly logger = new Logger(AllowanceService.name);
  private state?: AllowanceState;
  private timer?: NodeJS.Timeout;
  private failingSince: number | null = null;

  constructor(
    private readonly config: BudgetsConfig,
    private readonly workspaces: WorkspacesRepository,
    private readonly alerts: BudgetAlertsRepository,
    private readonly clock: Clock,
  ) {}

  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.config.ALLOWANCE_REFRESH_MILLISECONDS);
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async refresh(now = this.clock.date()): Promise<void> {
    try {
      const period = BillingPeriod.containing(now.getTime()).toString();
      const [workspaces, budgets, caps] = await Promise.all([
        this.workspaces.ids(),
        this.workspaces.budgets(),
        this.alerts.capsReached(period),
      ]);
      this.state = { period, workspaces, budgets, caps, refreshedAt: now };
      if (this.failingSince !== null) this.logger.log('allowance: reloading again');
      this.failingSince = null;
    } catch (e) {
      // Logged once per outage, not every second.
      if (this.failingSince === null)
        this.logger.warn(`allowance: reload failed, answering from the last one: ${describeError(e)}`);
      this.failingSince ??= now.getTime();
    }
  }

  /**
   * The answer, or undefined for a workspace that does not exist. From memory; a workspace
   * created since the last reload is looked up once (and its budget with it), so a new
   * workspace is never refused for being new.
   */
  async allowance(workspaceId: string, nowMs = this.clock.now()): Promise<Allowance | undefined> {
    const s = this.state;
    if (!s) throw new Error('allowance not loaded yet');
    if (!s.workspaces.has(workspaceId)) {
      if (!(await this.workspaces.findById(workspaceId))) return undefined;
      s.workspaces.add(workspaceId);
      const budget = await this.workspaces.budget(workspaceId);
      if (budget) s.budgets.set(workspaceId, budget);
    }
    const period = BillingPeriod.containing(nowMs).toString();
    const budget = s.budgets.get(workspaceId);
    // A month that turned since the last reload has no cap reached yet.
    const capped =
      budget?.enforce === true &&
      period === s.period &&
      (s.caps.get(workspaceId)?.has(budget.monthly_limit) ?? false);
    return {
      workspace_id: workspaceId,
      allowed: !capped,
      ...(capped ? { reason: 'budget_exceeded' as const } : {}),
      period,
      monthly_limit: budget ? { amount: budget.monthly_limit, currency: 'usd' } : null,
      enforced: budget?.enforce ?? false,
      as_of: s.refreshedAt.toISOString(),
    };
  }
}
