import { Injectable } from '@nestjs/common';
import { ClickHouseService } from '../clickhouse/clickhouse.service';
import { sql, str } from '../clickhouse/sql';
import { BillingEventEnvelope } from './billing-event';

/** The `billing_events` table: every billing event as published. */
@Injectable()
export class BillingEventsRepository {
  constructor(private readonly clickhouse: ClickHouseService) {}

  async exists(id: string): Promise<boolean> {
    const rows = await this.clickhouse.query<{ n: string }>(
      sql`SELECT count() AS n FROM billing_events WHERE id = ${str(id)}`,
    );
    return Number(rows[0]?.n ?? 0) > 0;
  }

  /** Which of these ids were published (the ids travel as an external table, not SQL). */
  async existing(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.clickhouse.queryWithExternalTable<{ id: string }>(
      sql`SELECT DISTINCT id FROM billing_events WHERE id IN (SELECT id FROM wanted_ids)`,
      { name: 'wanted_ids', structure: 'id String', rows: ids.map((id) => [id]) },
    );
    return new Set(rows.map((r) => r.id));
  }

  /** Distinct billing events stored (replay summaries). */
  async count(): Promise<bigint> {
    const [row] = await this.clickhouse.query<{ n: string }>(
      sql`SELECT toString(uniqExact(id)) AS n FROM billing_events`,
    );
    return BigInt(row.n);
  }

  async append(events: readonly BillingEventEnvelope[]): Promise<void> {
    await this.clickhouse.insert(
      'billing_events',
      events.map((e) => ({
        id: e.id,
        type: e.type,
        workspace_id: e.subject,
        occurred_at_ms: Date.parse(e.time),
        payload: JSON.stringify(e),
      })),
    );
  }
}
