import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ApiError, ApiErrorCode } from '../errors/api-error';
import { exceedsJsonDepth, MAX_JSON_DEPTH } from '../json/untrusted-json';

/**
 * What every request meets before its body is read or any route runs, in this order:
 * 1. authentication (for /v1, except the routes that prove themselves otherwise), so an
 *    unauthenticated caller learns nothing from how its body is judged and costs us nothing;
 * 2. a declared Content-Length over the limit is a 413 at once, not after reading it;
 * 3. a query parameter given twice (or in bracket form) is a 400 naming it;
 * 4. the JSON body parser, which refuses nesting deeper than MAX_JSON_DEPTH before parsing.
 * Refusals here go through the global exception filter like every other error.
 */

/** Bytes of a request body at most (contract: POST /v1/events takes ≤ 1 MiB). */
export const MAX_BODY_BYTES = 1024 * 1024;

/** body-parser error type of a body nested too deep. */
export const BODY_TOO_DEEP = 'entity.too.deep';

/** Routes under /v1 that authenticate otherwise: Stripe signs its webhooks. */
const SELF_AUTHENTICATING = ['/v1/stripe/webhooks'];

export type Authenticate = (authorization: string | undefined) => Promise<unknown>;

function needsBearer(path: string): boolean {
  return path.startsWith('/v1/') && !SELF_AUTHENTICATING.includes(path.replace(/\/+$/, ''));
}

function hasPendingBody(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

/** Refusing before the body is read: the connection is closed after the answer, the body never read. */
function refuseEarly(req: Request, res: Response, next: NextFunction, error: ApiError): void {
  if (hasPendingBody(req)) res.setHeader('Connection', 'close');
  next(error);
}

/**
 * Authenticates /v1 requests before anything else; the principal is kept on the request for
 * the route's guard, which decides whether that kind of caller may use the route (403).
 */
export function authenticateFirst(authenticate: Authenticate): RequestHandler {
  return (req, res, next) => {
    if (!needsBearer(req.path)) return next();
    authenticate(req.headers.authorization).then(
      (principal) => {
        (req as Request & { principal?: unknown }).principal = principal;
        next();
      },
      (e: unknown) =>
        refuseEarly(
          req,
          res,
          next,
          e instanceof ApiError
            ? e
            : new ApiError(ApiErrorCode.Unavailable, 'authentication is unavailable; retry'),
        ),
    );
  };
}

/** A body declared larger than the limit is refused before a byte of it is read. */
export function refuseOversizedBody(limit = MAX_BODY_BYTES): RequestHandler {
  return (req, res, next) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit)
      return refuseEarly(
        req,
        res,
        next,
        new ApiError(ApiErrorCode.PayloadTooLarge, `request body is larger than ${limit / 1024 / 1024} MiB`),
      );
    next();
  };
}

/** Every query parameter is one string: `?a=1&a=2` (or `a[b]=1`) is a 400 naming it. */
export function refuseRepeatedQueryParameters(): RequestHandler {
  return (req, _res, next) => {
    for (const [name, value] of Object.entries(req.query as Record<string, unknown>)) {
      if (typeof value !== 'string') {
        const field = name.isWellFormed() ? name : JSON.stringify(name);
        return next(ApiError.invalid(field, `${field} must be given once, as a single value`));
      }
    }
    next();
  };
}

/**
 * Options for the JSON body parser: the raw body kept (Stripe signatures are checked on it)
 * and nesting refused before JSON.parse, whose output every later step walks recursively.
 */
export function jsonBodyOptions(types: string[]) {
  return {
    limit: MAX_BODY_BYTES,
    type: types,
    verify: (req: Request & { rawBody?: Buffer }, _res: Response, body: Buffer) => {
      // body-parser wraps what verify throws with http-errors: a plain error with its own status
      // and type (the filter names the field).
      if (exceedsJsonDepth(body, MAX_JSON_DEPTH))
        throw Object.assign(new Error(`the request body is nested deeper than ${MAX_JSON_DEPTH} levels`), {
          status: 400,
          type: BODY_TOO_DEEP,
        });
      req.rawBody = body;
    },
  };
}
