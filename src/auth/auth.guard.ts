import { CanActivate, ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { ApiError, ApiErrorCode } from '../common/api-error';
import { Access, ACCESS } from '../common/access';
import { CredentialStore } from './credential-store.service';
import type { Principal } from './principal';

export interface AuthenticatedRequest extends Request {
  principal: Principal;
}

/**
 * The global guard (APP_GUARD): a route runs only if it declares who may call it and the
 * caller is one of them. No declaration: refused (and logged, it is a programming error).
 * Missing or unknown token: 401 (usually decided earlier, before the body was read, by the
 * HTTP edge). A known token of a kind the route does not take: 403.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly logger = new Logger(AuthGuard.name);

  constructor(
    private readonly reflector: Reflector,
    private readonly credentials: CredentialStore,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const access = this.reflector.getAllAndOverride<Access | undefined>(ACCESS, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (access === 'public') return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    if (access === undefined) {
      this.logger.error(
        `${request.method} ${request.route?.path ?? request.path} declares no access: refused`,
      );
      throw new ApiError(ApiErrorCode.Forbidden, 'this route is not open to any caller');
    }
    const principal = request.principal ?? this.credentials.authenticate(request.headers.authorization);
    if (!access.includes(principal.kind)) {
      throw new ApiError(ApiErrorCode.Forbidden, `this route does not accept a ${principal.kind} token`);
    }
    request.principal = principal;
    return true;
  }
}
