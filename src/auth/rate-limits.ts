import { ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { AuthConfig } from './auth.config';
import { ThrottlerGuard, ThrottlerLimitDetail, ThrottlerStorage } from '@nestjs/throttler';
import type { Request } from 'express';
import { ApiError } from '../common/api-error';
import { principalKey, type Principal } from './principal';

/**
 * Requests per credential (issue 10, finding 4), with @nestjs/throttler: a window of one
 * second, RATE_LIMIT_PER_CREDENTIAL_PER_SECOND requests in it; over that, 429 with
 * Retry-After. Counted per credential (operator, agent token, workspace key), never per
 * address: many agents behind one NAT are many credentials. Public routes are not counted.
 */
@Injectable()
export class CredentialRateLimitGuard extends ThrottlerGuard {
  protected override async shouldSkip(context: ExecutionContext): Promise<boolean> {
    return context.switchToHttp().getRequest<{ principal?: Principal }>().principal === undefined;
  }

  protected override async getTracker(req: Record<string, unknown>): Promise<string> {
    return principalKey(req.principal as Principal);
  }

  protected override async throwThrottlingException(
    _context: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ) {
    throw ApiError.rateLimited(
      `more than ${detail.limit} requests per second with this credential; slow down`,
      detail.timeToExpire,
    );
  }
}

/**
 * Failed authentications per client address: after AUTH_FAILURES_PER_MINUTE in a minute, the
 * address's failures are answered 429 with Retry-After for a minute instead of 401. A valid
 * token from that address still works (an address may be a NAT or a load balancer: one
 * guesser must not lock out its neighbours). The same storage as the guard above.
 */
@Injectable()
export class AuthFailureLimiter {
  private static readonly WINDOW_MS = 60_000;

  constructor(
    @Inject(ThrottlerStorage) private readonly storage: ThrottlerStorage,
    private readonly config: AuthConfig,
  ) {}

  /** Counts a failure of `req`'s address; throws the 429 once the address is over its limit. */
  async failed(req: Request): Promise<void> {
    const address = req.ip ?? req.socket.remoteAddress ?? 'unknown';
    const record = await this.storage.increment(
      `auth-failures:${address}`,
      AuthFailureLimiter.WINDOW_MS,
      this.config.AUTH_FAILURES_PER_MINUTE,
      AuthFailureLimiter.WINDOW_MS,
      'auth-failures',
    );
    if (record.isBlocked)
      throw ApiError.rateLimited(
        'too many failed authentications from this address; try again later',
        record.timeToBlockExpire,
      );
  }
}
