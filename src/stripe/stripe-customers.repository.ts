import { Injectable } from '@nestjs/common';
import { ClickHouseService } from '../platform/clickhouse/clickhouse.service';
import { sql } from '../platform/clickhouse/sql';

/** The `stripe_customers` projection (migrations/0003): workspace → Stripe customer. */
@Injectable()
export class StripeCustomersRepository {
  constructor(private readonly clickhouse: ClickHouseService) {}

  async link(workspaceId: string, stripeCustomerId: string, atMs: number): Promise<void> {
    await this.clickhouse.insert('stripe_customers', [
      { workspace_id: workspaceId, stripe_customer_id: stripeCustomerId, linked_at_ms: atMs },
    ]);
  }

  async all(): Promise<Map<string, string>> {
    const rows = await this.clickhouse.query<{ workspace_id: string; stripe_customer_id: string }>(
      sql`SELECT workspace_id, stripe_customer_id FROM stripe_customers FINAL`,
    );
    return new Map(rows.map((r) => [r.workspace_id, r.stripe_customer_id]));
  }
}
