import { Injectable } from '@nestjs/common';
import { Money } from '../catalog/money';
import { ClickHouseService } from '../platform/clickhouse/clickhouse.service';
import { sql, str } from '../platform/clickhouse/sql';
import { CreditGrant, GrantLedger } from './credit-grants';

interface GrantRow {
  grant_id: string;
  workspace_id: string;
  kind: CreditGrant['kind'];
  amount: string;
  priority: number;
  effective_at_ms: string;
  expires_at_ms: string;
  reason: string;
  created_at_ms: string;
}

/** Credit grants, their voiding and the ledger of what finalized invoices took (migrations/0009). */
@Injectable()
export class CreditGrantsRepository {
  constructor(private readonly clickhouse: ClickHouseService) {}

  async insertGrant(
    row: Omit<CreditGrant, 'voided_at_ms'> & { currency: string },
    eventId: string,
  ): Promise<void> {
    await this.clickhouse.insert('credit_grants', [
      {
        grant_id: row.grant_id,
        workspace_id: row.workspace_id,
        kind: row.kind,
        amount: row.amount,
        currency: row.currency,
        priority: row.priority,
        effective_at_ms: row.effective_at_ms,
        expires_at_ms: row.expires_at_ms ?? 0,
        reason: row.reason,
        created_at_ms: row.created_at_ms,
        event_id: eventId,
      },
    ]);
  }

  async insertVoid(
    row: { grant_id: string; workspace_id: string; voided_at_ms: number; reason: string },
    eventId: string,
  ): Promise<void> {
    await this.clickhouse.insert('credit_grant_voids', [{ ...row, event_id: eventId }]);
  }

  /** Every grant, per workspace (all workspaces, or one), voided ones with their voiding. */
  async grants(workspaceId?: string): Promise<Map<string, CreditGrant[]>> {
    const only = workspaceId === undefined ? sql`` : sql`WHERE workspace_id = ${str(workspaceId)}`;
    const rows = await this.clickhouse.query<Omit<GrantRow, 'voided_at_ms'>>(sql`
      SELECT grant_id, workspace_id, any(kind) AS kind, any(amount) AS amount, any(priority) AS priority,
             toString(any(effective_at_ms)) AS effective_at_ms, toString(any(expires_at_ms)) AS expires_at_ms,
             any(reason) AS reason, toString(any(created_at_ms)) AS created_at_ms
      FROM credit_grants ${only}
      GROUP BY grant_id, workspace_id
      ORDER BY workspace_id, grant_id`);
    // The first voiding of a grant counts (a second DELETE finds nothing left to void).
    const voids = await this.clickhouse.query<{ grant_id: string; workspace_id: string; at: string }>(sql`
      SELECT grant_id, workspace_id, toString(min(voided_at_ms)) AS at
      FROM credit_grant_voids ${only}
      GROUP BY grant_id, workspace_id`);
    const voidedAt = new Map(voids.map((v) => [`${v.workspace_id}/${v.grant_id}`, Number(v.at)]));
    const out = new Map<string, CreditGrant[]>();
    for (const r of rows) {
      const list = out.get(r.workspace_id) ?? [];
      list.push({
        grant_id: r.grant_id,
        workspace_id: r.workspace_id,
        kind: r.kind,
        amount: r.amount,
        priority: Number(r.priority),
        effective_at_ms: Number(r.effective_at_ms),
        expires_at_ms: Number(r.expires_at_ms) === 0 ? null : Number(r.expires_at_ms),
        voided_at_ms: voidedAt.get(`${r.workspace_id}/${r.grant_id}`) ?? null,
        created_at_ms: Number(r.created_at_ms),
        reason: r.reason,
      });
      out.set(r.workspace_id, list);
    }
    return out;
  }

  /** What finalized invoices took of each grant, per workspace: the first finalization of each invoice. */
  async ledgers(workspaceId?: string): Promise<Map<string, GrantLedger>> {
    const only = workspaceId === undefined ? sql`` : sql`WHERE workspace_id = ${str(workspaceId)}`;
    const rows = await this.clickhouse.query<{ workspace_id: string; grant_id: string; amount: string }>(sql`
      SELECT workspace_id, grant_id, argMin(amount, finalized_at_ms) AS amount
      FROM credit_grant_consumption ${only}
      GROUP BY workspace_id, grant_id, invoice_id`);
    const out = new Map<string, GrantLedger>();
    for (const r of rows) {
      const ledger = out.get(r.workspace_id) ?? new GrantLedger();
      ledger.add(r.grant_id, new Money(r.amount));
      out.set(r.workspace_id, ledger);
    }
    return out;
  }

  async insertConsumption(
    rows: ReadonlyArray<{
      workspace_id: string;
      grant_id: string;
      invoice_id: string;
      amount: string;
      finalized_at_ms: number;
      event_id: string;
    }>,
  ): Promise<void> {
    await this.clickhouse.insert('credit_grant_consumption', rows);
  }
}
