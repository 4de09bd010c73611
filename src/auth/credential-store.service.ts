import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { AuthConfig } from './auth.config';
import { ApiError, ApiErrorCode } from '../common/api-error';
import { describeError } from '../platform/errors/describe-error';
import { hasIssuedShape, hashApiKey, secretEquals } from './credentials';
import { CredentialRow, CredentialsRepository } from './credentials.repository';
import type { Principal } from './principal';
import { parseIngestToken, SourcePatterns } from './source-patterns';

/**
 * Every active credential, in memory: authenticating a request does no I/O (issue 10,
 * finding 4). The memory is the `credentials` projection minus its revocations, reloaded every
 * CREDENTIALS_REFRESH_MILLISECONDS, so a key created or revoked through any replica takes
 * effect on every replica within one reload of its projection; the replica that made the
 * change applies it at once. An unknown token is unknown without a lookup: a guess costs a
 * hash and a map probe, and a token that is not of an issued shape not even the hash.
 * A failed reload keeps the last memory (logged once per outage).
 */
@Injectable()
export class CredentialStore implements OnApplicationShutdown {
  private readonly logger = new Logger(CredentialStore.name);
  private byHash = new Map<string, Principal>();
  private readonly revokedHere = new Set<string>();
  /** Made here, kept across reloads until its projection is surely in them. */
  private readonly madeHere = new Map<string, { principal: Principal; until: number }>();
  private readonly configured: Array<{ token: string; principal: Principal }>;
  private loaded = false;
  private timer?: NodeJS.Timeout;
  private failingSince: number | null = null;

  constructor(
    private readonly config: AuthConfig,
    private readonly repository: CredentialsRepository,
  ) {
    this.configured = config.INGEST_TOKENS.map((entry, i) => {
      const { token, sources } = parseIngestToken(entry);
      return {
        token,
        principal: {
          kind: 'agent',
          credentialId: `ingest_tokens_${i + 1}`,
          sources: sources === null ? null : new SourcePatterns(sources),
        },
      };
    });
  }

  /** Loads the memory (retrying until ClickHouse answers) and keeps it current. */
  async start(): Promise<void> {
    while (!(await this.refresh())) await new Promise((r) => setTimeout(r, 1000));
    this.timer = setInterval(() => void this.refresh(), this.config.CREDENTIALS_REFRESH_MILLISECONDS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async refresh(): Promise<boolean> {
    try {
      const { rows, revoked } = await this.repository.active();
      const next = new Map<string, Principal>();
      for (const row of rows)
        if (!this.revokedHere.has(row.credential_id)) next.set(row.secret_hash, toPrincipal(row));
      const now = Date.now();
      for (const [hash, made] of this.madeHere) {
        const id = made.principal.kind === 'operator' ? '' : made.principal.credentialId;
        if (made.until < now || revoked.has(id) || next.has(hash)) this.madeHere.delete(hash);
        else next.set(hash, made.principal);
      }
      this.byHash = next;
      this.loaded = true;
      if (this.failingSince !== null) this.logger.log('credentials: reloading again');
      this.failingSince = null;
      return true;
    } catch (e) {
      if (this.failingSince === null)
        this.logger.warn(`credentials: reload failed, keeping the last ones: ${describeError(e)}`);
      this.failingSince ??= Date.now();
      return false;
    }
  }

  /** A credential this replica just created (201 only once it authenticates here). */
  remember(row: Omit<CredentialRow, 'revoked_at_ms'>): void {
    const principal = toPrincipal({ ...row, revoked_at_ms: null });
    this.byHash.set(row.secret_hash, principal);
    this.madeHere.set(row.secret_hash, { principal, until: Date.now() + 60_000 });
  }

  /** A credential this replica just revoked: refused here at once, and never reloaded. */
  forget(credentialId: string): void {
    this.revokedHere.add(credentialId);
    for (const [hash, made] of this.madeHere)
      if (made.principal.kind !== 'operator' && made.principal.credentialId === credentialId)
        this.madeHere.delete(hash);
    for (const [hash, p] of this.byHash)
      if (p.kind !== 'operator' && p.credentialId === credentialId) this.byHash.delete(hash);
  }

  /** The caller of an `Authorization` header; 401 when it is missing or unknown. */
  authenticate(header: string | undefined): Principal {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    if (!match)
      throw new ApiError(
        ApiErrorCode.Unauthenticated,
        'missing bearer token (Authorization: Bearer <token>)',
      );
    const token = match[1];
    if (this.config.ADMIN_API_KEY && secretEquals(token, this.config.ADMIN_API_KEY))
      return { kind: 'operator' };
    for (const c of this.configured) if (secretEquals(token, c.token)) return c.principal;
    if (!hasIssuedShape(token)) throw new ApiError(ApiErrorCode.Unauthenticated, 'unknown token');
    if (!this.loaded) throw new ApiError(ApiErrorCode.Unavailable, 'credentials are loading; retry');
    const principal = this.byHash.get(hashApiKey(token));
    if (!principal) throw new ApiError(ApiErrorCode.Unauthenticated, 'unknown token');
    return principal;
  }

  /** How many credentials are in memory (for /metrics and tests). */
  get size(): number {
    return this.byHash.size;
  }
}

function toPrincipal(row: CredentialRow): Principal {
  return row.kind === 'agent'
    ? { kind: 'agent', credentialId: row.credential_id, sources: new SourcePatterns(row.sources) }
    : { kind: 'workspace', workspaceId: row.workspace_id, credentialId: row.credential_id };
}
