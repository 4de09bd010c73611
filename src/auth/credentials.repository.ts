import { Injectable } from '@nestjs/common';
import { ClickHouseService } from '../platform/clickhouse/clickhouse.service';
import { sql, str } from '../platform/clickhouse/sql';

export type CredentialKind = 'workspace' | 'agent';

/** A credential as projected (migrations/0007): never the secret, only its SHA-256. */
export interface CredentialRow {
  credential_id: string;
  kind: CredentialKind;
  workspace_id: string; // '' for agent tokens
  name: string;
  sources: string[]; // agent tokens: the sources it may write
  secret_hash: string;
  secret_prefix: string;
  created_at_ms: number;
  revoked_at_ms: number | null;
}

/** `credentials` and `credential_revocations` (append-only; a revocation wins over its key). */
@Injectable()
export class CredentialsRepository {
  constructor(private readonly clickhouse: ClickHouseService) {}

  async insert(row: Omit<CredentialRow, 'revoked_at_ms'>, eventId: string): Promise<void> {
    await this.clickhouse.insert('credentials', [{ ...row, event_id: eventId }]);
  }

  async revoke(credentialId: string, revokedAtMs: number, eventId: string): Promise<void> {
    await this.clickhouse.insert('credential_revocations', [
      { credential_id: credentialId, revoked_at_ms: revokedAtMs, event_id: eventId },
    ]);
  }

  /** Every credential not revoked (what the store keeps in memory), and the ids revoked. */
  async active(): Promise<{ rows: CredentialRow[]; revoked: Set<string> }> {
    const [rows, revoked] = await Promise.all([
      this.clickhouse.query<RawRow>(sql`
        SELECT credential_id, kind, workspace_id, name, sources, secret_hash, secret_prefix, created_at_ms
        FROM credentials FINAL`),
      this.clickhouse.query<{ credential_id: string }>(
        sql`SELECT DISTINCT credential_id FROM credential_revocations`,
      ),
    ]);
    const gone = new Set(revoked.map((r) => r.credential_id));
    return {
      rows: rows.filter((r) => !gone.has(r.credential_id)).map((r) => normalize(r, null)),
      revoked: gone,
    };
  }

  /** The credentials of a kind (one workspace's keys, or the agent tokens), revoked ones too. */
  async list(kind: CredentialKind, workspaceId = ''): Promise<CredentialRow[]> {
    const [rows, revoked] = await Promise.all([
      this.clickhouse.query<RawRow>(sql`
        SELECT credential_id, kind, workspace_id, name, sources, secret_hash, secret_prefix, created_at_ms
        FROM credentials FINAL
        WHERE kind = ${str(kind)} AND workspace_id = ${str(workspaceId)}
        ORDER BY created_at_ms, credential_id`),
      this.clickhouse.query<{ credential_id: string; revoked_at_ms: string }>(sql`
        SELECT credential_id, min(revoked_at_ms) AS revoked_at_ms FROM credential_revocations
        WHERE credential_id IN (
          SELECT credential_id FROM credentials WHERE kind = ${str(kind)} AND workspace_id = ${str(workspaceId)})
        GROUP BY credential_id`),
    ]);
    const revokedAt = new Map(revoked.map((r) => [r.credential_id, Number(r.revoked_at_ms)]));
    return rows.map((r) => normalize(r, revokedAt.get(r.credential_id) ?? null));
  }
}

type RawRow = Omit<CredentialRow, 'created_at_ms' | 'revoked_at_ms'> & { created_at_ms: string | number };

function normalize(r: RawRow, revokedAtMs: number | null): CredentialRow {
  return { ...r, created_at_ms: Number(r.created_at_ms), revoked_at_ms: revokedAtMs };
}

/** What every credential listing shows of a credential: never its secret or hash. */
export function credentialView(row: CredentialRow) {
  return {
    id: row.credential_id,
    name: row.name,
    created_at: new Date(row.created_at_ms).toISOString(),
    revoked_at: row.revoked_at_ms === null ? null : new Date(row.revoked_at_ms).toISOString(),
  };
}
