import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ApiError, ApiErrorCode } from '../../common/api-error';
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

/** Resolves to the caller (kept on the request) or rejects with the ApiError to answer. */
export type Authenticate = (req: Request) => Promise<unknown>;

function needsBearer(path: string): boolean {
  return path.startsWith('/v1/') && !SELF_AUTHENTICATING.includes(path.replace(/\/+$/, ''));
}

function hasPendingBody(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

/** After an early answer, how much of the unread body is still read (and discarded), at most. */
export const DRAIN_MAX_BYTES = 8 * 1024 * 1024;
/** …and for how long, before the connection is closed. */
export const DRAIN_MAX_MS = 10_000;

/**
 * Refusing before the body is read. The answer goes out at once; the body is then read and
 * thrown away (Node's own dump of an unread request) so that the connection closes cleanly.
 * Closing it at once instead (`Connection: close`, as earlier builds did) resets it while the
 * client's body is still arriving: the kernel answers unread bytes with RST, and a client
 * that sends its whole body before reading (Python requests, most SDKs) gets "connection
 * reset" instead of the 401 or 413 (issue 24). What a client may make us read is bounded:
 * past DRAIN_MAX_BYTES or DRAIN_MAX_MS the connection is closed after all.
 */
function refuseEarly(req: Request, res: Response, next: NextFunction, error: ApiError): void {
  if (hasPendingBody(req)) res.once('finish', () => drainThenClose(req));
  next(error);
}

function drainThenClose(req: Request): void {
  if (req.complete) return;
  const socket = req.socket;
  const close = () => socket.destroy();
  const timer = setTimeout(close, DRAIN_MAX_MS);
  timer.unref();
  let read = 0;
  req.on('data', (chunk: Buffer) => {
    read += chunk.length;
    if (read > DRAIN_MAX_BYTES) close();
  });
  req.once('close', () => clearTimeout(timer));
  // Node dumps an unread request once its answer has finished; resume in case it has not.
  req.resume();
}

function authenticateInto(req: Request, res: Response, next: NextFunction, authenticate: Authenticate) {
  authenticate(req).then(
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
}

/**
 * Authenticates /v1 requests before anything else; the principal is kept on the request for
 * the route's guard, which decides whether that kind of caller may use the route (403).
 */
export function authenticateFirst(authenticate: Authenticate): RequestHandler {
  return (req, res, next) => {
    if (!needsBearer(req.path)) return next();
    authenticateInto(req, res, next, authenticate);
  };
}

/** The operations pages: Prometheus metrics and the OpenAPI document with its UI. */
function isOperationsPage(path: string): boolean {
  return path === '/metrics' || path === '/docs' || path.startsWith('/docs/') || path.startsWith('/docs-');
}

/**
 * Who may read /metrics and /docs (issue 10, finding 4). With a metrics port they are served
 * there only (anyone who reaches that port may read them; the port serves nothing else but
 * health); without one they are served on the main port to the operator key only.
 */
export function guardOperationsPages(
  metricsPort: number | undefined,
  authenticate: Authenticate,
): RequestHandler {
  const notFound = () => new ApiError(ApiErrorCode.NotFound, 'not found');
  return (req, res, next) => {
    const operations = isOperationsPage(req.path);
    if (metricsPort !== undefined) {
      const onMetricsPort = req.socket.localPort === metricsPort;
      if (operations !== onMetricsPort && !(onMetricsPort && ['/healthz', '/readyz'].includes(req.path)))
        return next(notFound());
      return next();
    }
    if (!operations) return next();
    authenticateInto(
      req,
      res,
      (error?: unknown) => {
        if (error) return next(error);
        const principal = (req as Request & { principal?: { kind: string } }).principal;
        if (principal?.kind !== 'operator')
          return next(new ApiError(ApiErrorCode.Forbidden, `${req.path} is for the operator key`));
        next();
      },
      authenticate,
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
