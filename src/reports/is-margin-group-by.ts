import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { ArrayMinSize, ArrayUnique, IsArray, IsIn } from 'class-validator';
import { MARGIN_GROUP_KEYS } from './margin';

const MESSAGE = `group_by must be a comma-separated list of ${MARGIN_GROUP_KEYS.join(', ')}, each once`;

/** `group_by=provider,gpu_type,region` on a query: split at commas, each a known key, once. */
export function IsMarginGroupBy(): PropertyDecorator {
  return applyDecorators(
    Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.split(',') : value)),
    IsArray({ message: MESSAGE }),
    ArrayMinSize(1, { message: MESSAGE }),
    ArrayUnique({ message: MESSAGE }),
    IsIn(MARGIN_GROUP_KEYS, { each: true, message: MESSAGE }),
  );
}
