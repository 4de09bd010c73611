import { CanActivate, ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { AppConfig } from '../config/app-config';
import { ApiError, ApiErrorCode } from '../platform/errors/api-error';
import { hashApiKey, secretEquals } from './api-keys';
import { WorkspacesRepository } from './workspaces.repository';

export type PrincipalKind = 'operator' | 'workspace' | 'agent';
export type Principal = { kind: 'operator' } | { kind: 'agent' } | { kind: 'workspace'; workspaceId: string };

const ALLOWED = 'gpumeter:allowed-principals';
/** Which kinds of token may call a route. */
export const Allow = (...kinds: PrincipalKind[]) => SetMetadata(ALLOWED, kinds);

export interface AuthenticatedRequest extends Request {
  principal: Principal;
}

const CACHE_TTL_MS = 30_000;
const CACHE_MAX = 10_000;

/**
 * Bearer-token authentication for every /v1 route: operator key, agent ingest token or
 * workspace API key (looked up by its hash, cached briefly). Missing or unknown token: 401.
 * A known token of a kind the route does not take: 403.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly cache = new Map<string, { workspaceId: string; until: number }>();

  constructor(
    private readonly reflector: Reflector,
    private readonly config: AppConfig,
    private readonly workspaces: WorkspacesRepository,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const allowed = this.reflector.getAllAndOverride<PrincipalKind[] | undefined>(ALLOWED, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!allowed) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    // Usually authenticated already, before the body was read (platform/http/http-edge.ts).
    const principal = request.principal ?? (await this.authenticate(request.headers.authorization));
    if (!allowed.includes(principal.kind)) {
      throw new ApiError(ApiErrorCode.Forbidden, `this route does not accept a ${principal.kind} token`);
    }
    request.principal = principal;
    return true;
  }

  async authenticate(header: string | undefined): Promise<Principal> {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    if (!match)
      throw new ApiError(
        ApiErrorCode.Unauthenticated,
        'missing bearer token (Authorization: Bearer <token>)',
      );
    const token = match[1];
    if (this.config.ADMIN_API_KEY && secretEquals(token, this.config.ADMIN_API_KEY))
      return { kind: 'operator' };
    if (this.config.INGEST_TOKENS.some((t) => secretEquals(token, t))) return { kind: 'agent' };
    const hash = hashApiKey(token);
    const cached = this.cache.get(hash);
    if (cached && cached.until > Date.now()) return { kind: 'workspace', workspaceId: cached.workspaceId };
    const workspace = await this.workspaces.findByApiKeyHash(hash);
    if (!workspace) throw new ApiError(ApiErrorCode.Unauthenticated, 'unknown token');
    if (this.cache.size >= CACHE_MAX) this.cache.clear();
    this.cache.set(hash, { workspaceId: workspace.id, until: Date.now() + CACHE_TTL_MS });
    return { kind: 'workspace', workspaceId: workspace.id };
  }
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
