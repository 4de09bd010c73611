import { ApiError, ApiErrorCode } from '../common/api-error';
import type { SourcePatterns } from './source-patterns';

export type { PrincipalKind } from '../common/access';

/**
 * Who is calling. An agent carries the sources it may write (null: any, only for development
 * INGEST_TOKENS without sources); a workspace key acts on its own workspace only.
 */
export type Principal =
  | { kind: 'operator' }
  | { kind: 'agent'; credentialId: string; sources: SourcePatterns | null }
  | { kind: 'workspace'; workspaceId: string; credentialId: string };

/** What rate limits count against: the credential, never a value that tells its secret. */
export function principalKey(p: Principal): string {
  return p.kind === 'operator' ? 'operator' : `${p.kind}:${p.credentialId}`;
}

/**
 * The workspace a request may act on: a workspace key acts on its own workspace only
 * (asking for another one is answered 404, as if it did not exist); the operator names one.
 */
export function scopeWorkspace(principal: Principal, requested: string | undefined): string {
  if (principal.kind === 'workspace') {
    if (requested !== undefined && requested !== principal.workspaceId) {
      throw new ApiError(ApiErrorCode.NotFound, 'workspace not found');
    }
    return principal.workspaceId;
  }
  if (requested === undefined || requested === '')
    throw ApiError.invalid('workspace_id', 'workspace_id is required');
  return requested;
}
