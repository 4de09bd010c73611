import { HttpStatus } from '@nestjs/common';

/** Every refusal the API makes, with the HTTP status it maps to (one global filter). */
export enum ApiErrorCode {
  Unauthenticated = 'unauthenticated',
  Forbidden = 'forbidden',
  NotFound = 'not_found',
  InvalidRequest = 'invalid_request',
  Conflict = 'conflict',
  /** What was asked for existed and is gone for good (e.g. raw events dropped by retention). */
  Gone = 'gone',
  PayloadTooLarge = 'payload_too_large',
  RateLimited = 'rate_limited',
  Unavailable = 'unavailable',
}

const STATUS: Record<ApiErrorCode, HttpStatus> = {
  [ApiErrorCode.Unauthenticated]: HttpStatus.UNAUTHORIZED,
  [ApiErrorCode.Forbidden]: HttpStatus.FORBIDDEN,
  [ApiErrorCode.NotFound]: HttpStatus.NOT_FOUND,
  [ApiErrorCode.InvalidRequest]: HttpStatus.BAD_REQUEST,
  [ApiErrorCode.Conflict]: HttpStatus.CONFLICT,
  [ApiErrorCode.Gone]: HttpStatus.GONE,
  [ApiErrorCode.PayloadTooLarge]: HttpStatus.PAYLOAD_TOO_LARGE,
  [ApiErrorCode.RateLimited]: HttpStatus.TOO_MANY_REQUESTS,
  [ApiErrorCode.Unavailable]: HttpStatus.SERVICE_UNAVAILABLE,
};

export interface ApiErrorDetail {
  field: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly details: ApiErrorDetail[] = [],
  ) {
    super(message);
  }
  get status(): HttpStatus {
    return STATUS[this.code];
  }
  /** 429 with the seconds after which to try again (sent as Retry-After). */
  static rateLimited(message: string, retryAfterSeconds: number): ApiError {
    return Object.assign(new ApiError(ApiErrorCode.RateLimited, message), {
      retryAfterSeconds: Math.max(1, Math.ceil(retryAfterSeconds)),
    });
  }
  retryAfterSeconds?: number;
  static invalid(field: string, message: string): ApiError {
    return new ApiError(ApiErrorCode.InvalidRequest, message, [{ field, message }]);
  }
}
