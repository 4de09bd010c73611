import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { ApiError, ApiErrorCode } from '../../common/api-error';
import { BODY_TOO_DEEP } from '../http/http-edge';

/** Maps every error to one JSON shape: {"error": {"code", "message", "details"}}. */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    if (exception instanceof ApiError) {
      if (exception.retryAfterSeconds !== undefined)
        res.setHeader('Retry-After', String(exception.retryAfterSeconds));
      res.status(exception.status).json({
        error: { code: exception.code, message: exception.message, details: exception.details },
      });
      return;
    }
    // Express could not percent-decode a path parameter (e.g. %ED%A0%80, a lone surrogate).
    if (
      exception instanceof URIError ||
      /^Failed to decode param/.test((exception as Error)?.message ?? '')
    ) {
      const message = 'a path segment is not valid percent-encoded UTF-8';
      res.status(400).json({
        error: { code: ApiErrorCode.InvalidRequest, message, details: [{ field: '(path)', message }] },
      });
      return;
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const body = exception.getResponse();
      const message =
        typeof body === 'object' && body !== null && 'message' in body
          ? [body.message].flat().join('; ')
          : exception.message;
      res.status(status).json({ error: { code: codeFor(status), message, details: [] } });
      return;
    }
    // body-parser errors (too large, malformed JSON) arrive as plain errors with a status.
    const e = exception as { status?: number; type?: string; message?: string };
    if (e?.type === BODY_TOO_DEEP) {
      const message = e.message ?? 'the request body is nested too deep';
      res.status(400).json({
        error: { code: ApiErrorCode.InvalidRequest, message, details: [{ field: '(body)', message }] },
      });
      return;
    }
    if (e && typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
      const message =
        e.type === 'entity.too.large'
          ? 'request body is larger than 1 MiB'
          : e.type === 'entity.parse.failed'
            ? `request body is not valid JSON: ${e.message}`
            : (e.message ?? 'bad request');
      res.status(e.status).json({ error: { code: codeFor(e.status), message, details: [] } });
      return;
    }
    this.logger.error(
      exception instanceof Error ? (exception.stack ?? exception.message) : String(exception),
    );
    res.status(500).json({ error: { code: 'internal', message: 'internal error', details: [] } });
  }
}

function codeFor(status: number): string {
  switch (status) {
    case 400:
      return ApiErrorCode.InvalidRequest;
    case 401:
      return ApiErrorCode.Unauthenticated;
    case 403:
      return ApiErrorCode.Forbidden;
    case 404:
      return ApiErrorCode.NotFound;
    case 409:
      return ApiErrorCode.Conflict;
    case 413:
      return ApiErrorCode.PayloadTooLarge;
    case 429:
      return ApiErrorCode.RateLimited;
    case 503:
      return ApiErrorCode.Unavailable;
    default:
      return status >= 500 ? 'internal' : ApiErrorCode.InvalidRequest;
  }
}
