import { ArgumentMetadata, ValidationError, ValidationPipe } from '@nestjs/common';
import { findJsonProblem } from '../json/untrusted-json';
import { ApiError, ApiErrorCode, ApiErrorDetail } from '../../common/api-error';

function details(errors: ValidationError[], prefix = ''): ApiErrorDetail[] {
  return errors.flatMap((e) => {
    const field = prefix + e.property;
    const own = Object.values(e.constraints ?? {}).map((message) => ({ field, message }));
    return own.length > 0 ? own : details(e.children ?? [], `${field}.`);
  });
}

const PLAIN_TYPES: ReadonlySet<unknown> = new Set([Object, String, Number, Boolean, Array, undefined]);

/**
 * class-validator on every HTTP body and query DTO; a 400 that names each bad field. Before
 * the DTO sees it, the whole input must be safe JSON (platform/json/untrusted-json.ts): every
 * string and key well-formed Unicode, no prototype-chain keys. A lone surrogate would
 * otherwise be published and then refused by ClickHouse (or stored as U+FFFD) downstream.
 */
class ApiValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if ((metadata.type === 'body' || metadata.type === 'query') && !PLAIN_TYPES.has(metadata.metatype)) {
      const root = metadata.type === 'body' ? '(body)' : '(query)';
      if (value === null || typeof value !== 'object' || Array.isArray(value))
        throw ApiError.invalid(root, `${root} must be a JSON object`);
      const problem = findJsonProblem(value, root);
      if (problem) throw new ApiError(ApiErrorCode.InvalidRequest, problem.message, [problem]);
    }
    return super.transform(value, metadata);
  }
}

export function apiValidationPipe(): ValidationPipe {
  return new ApiValidationPipe({
    transform: true,
    whitelist: true,
    forbidUnknownValues: false,
    exceptionFactory: (errors) => {
      const d = details(errors);
      return new ApiError(ApiErrorCode.InvalidRequest, d.map((x) => x.message).join('; '), d);
    },
  });
}
