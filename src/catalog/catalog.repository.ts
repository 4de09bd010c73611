import { Injectable } from '@nestjs/common';
import { ClickHouseService } from '../platform/clickhouse/clickhouse.service';
import { sql } from '../platform/clickhouse/sql';

export interface CatalogChangeRow {
  event_id: string;
  type: string;
  effective_from_ms: number;
  published_at_ms: number;
  data: string;
}

/** The `catalog_changes` projection (migrations/0003). */
@Injectable()
export class CatalogRepository {
  constructor(private readonly clickhouse: ClickHouseService) {}

  async append(row: CatalogChangeRow): Promise<void> {
    await this.clickhouse.insert('catalog_changes', [row]);
  }

  /** Every change, in publication order (the catalog orders them by effective instant itself). */
  async all(): Promise<CatalogChangeRow[]> {
    const rows = await this.clickhouse.query<CatalogChangeRow>(
      sql`SELECT * FROM catalog_changes FINAL ORDER BY published_at_ms, event_id`,
    );
    return rows.map((r) => ({
      ...r,
      effective_from_ms: Number(r.effective_from_ms),
      published_at_ms: Number(r.published_at_ms),
    }));
  }
}
