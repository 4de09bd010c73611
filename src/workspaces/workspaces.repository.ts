import { Injectable } from '@nestjs/common';
import { ClickHouseService } from '../platform/clickhouse/clickhouse.service';
import { sql, str } from '../platform/clickhouse/sql';

export interface WorkspaceRow {
  id: string;
  name: string;
  email: string;
  api_key_hash: string;
  api_key_prefix: string;
  created_at_ms: number;
  version: number;
}

/** The `workspaces` projection (migrations/0002). */
@Injectable()
export class WorkspacesRepository {
  constructor(private readonly clickhouse: ClickHouseService) {}

  async upsert(row: WorkspaceRow): Promise<void> {
    await this.clickhouse.insert('workspaces', [row]);
  }

  async findById(id: string): Promise<WorkspaceRow | undefined> {
    const rows = await this.clickhouse.query<WorkspaceRow>(
      sql`SELECT * FROM workspaces FINAL WHERE id = ${str(id)} LIMIT 1`,
    );
    return rows[0] && normalize(rows[0]);
  }

  async findByApiKeyHash(hash: string): Promise<WorkspaceRow | undefined> {
    const rows = await this.clickhouse.query<WorkspaceRow>(
      sql`SELECT * FROM workspaces FINAL WHERE api_key_hash = ${str(hash)} LIMIT 1`,
    );
    return rows[0] && normalize(rows[0]);
  }

  async listIds(): Promise<string[]> {
    const rows = await this.clickhouse.query<{ id: string }>(
      sql`SELECT id FROM workspaces FINAL ORDER BY id`,
    );
    return rows.map((r) => r.id);
  }
}

function normalize(r: WorkspaceRow): WorkspaceRow {
  return { ...r, created_at_ms: Number(r.created_at_ms), version: Number(r.version) };
}
