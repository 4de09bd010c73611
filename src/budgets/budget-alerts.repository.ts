import { Injectable } from '@nestjs/common';
import { ClickHouseService } from '../platform/clickhouse/clickhouse.service';
import { sql, str } from '../platform/clickhouse/sql';

export interface BudgetAlertRow {
  event_id: string;
  workspace_id: string;
  period: string;
  monthly_limit: string;
  kind: string;
  threshold: number;
  spend: string;
  decided_at_ms: number;
}

/** The `budget_alerts` projection (migrations/0006). */
@Injectable()
export class BudgetAlertsRepository {
  constructor(private readonly clickhouse: ClickHouseService) {}

  async append(rows: readonly BudgetAlertRow[]): Promise<void> {
    await this.clickhouse.insert('budget_alerts', rows);
  }

  /** Ids of the alerts decided for a month (every workspace). */
  async decidedIds(period: string): Promise<Set<string>> {
    const rows = await this.clickhouse.query<{ event_id: string }>(
      sql`SELECT event_id FROM budget_alerts WHERE period = ${str(period)}`,
    );
    return new Set(rows.map((r) => r.event_id));
  }

  /** One workspace's alerts of a month, in the order they were decided. */
  async forWorkspace(workspaceId: string, period: string): Promise<BudgetAlertRow[]> {
    const rows = await this.clickhouse.query<BudgetAlertRow>(
      sql`SELECT event_id, workspace_id, period, monthly_limit, kind, threshold, spend, toString(decided_at_ms) AS decided_at_ms
          FROM budget_alerts FINAL WHERE workspace_id = ${str(workspaceId)} AND period = ${str(period)}
          ORDER BY decided_at_ms, event_id`,
    );
    return rows.map((r) => ({
      ...r,
      threshold: Number(r.threshold),
      decided_at_ms: Number(r.decided_at_ms),
    }));
  }

  /** The caps reached in a month: workspace → the limits whose cap was reached. */
  async capsReached(period: string): Promise<Map<string, Set<string>>> {
    const rows = await this.clickhouse.query<{ workspace_id: string; monthly_limit: string }>(
      sql`SELECT DISTINCT workspace_id, monthly_limit FROM budget_alerts WHERE period = ${str(period)} AND kind = 'cap'`,
    );
    const out = new Map<string, Set<string>>();
    for (const r of rows)
      out.set(r.workspace_id, (out.get(r.workspace_id) ?? new Set()).add(r.monthly_limit));
    return out;
  }
}
