import { ValidationError, ValidationPipe } from '@nestjs/common';
import { ApiError, ApiErrorCode, ApiErrorDetail } from './api-error';

function details(errors: ValidationError[], prefix = ''): ApiErrorDetail[] {
  return errors.flatMap((e) => {
    const field = prefix + e.property;
    const own = Object.values(e.constraints ?? {}).map((message) => ({ field, message }));
    return own.length > 0 ? own : details(e.children ?? [], `${field}.`);
  });
}

/** class-validator on every HTTP body and query DTO; a 400 that names each bad field. */
export function apiValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    transform: true,
    whitelist: true,
    forbidUnknownValues: false,
    exceptionFactory: (errors) => {
      const d = details(errors);
      return new ApiError(ApiErrorCode.InvalidRequest, d.map((x) => x.message).join('; '), d);
    },
  });
}
