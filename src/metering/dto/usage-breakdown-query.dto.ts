import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import { UsageSpanQueryDto } from './usage-query.dto';

export const MAX_BREAKDOWN_LIMIT = 100;
const LIMIT_MESSAGE = `limit must be a whole number from 1 to ${MAX_BREAKDOWN_LIMIT}`;

export class UsageBreakdownQueryDto extends UsageSpanQueryDto {
  @ApiPropertyOptional({ enum: ['app_id', 'function_id'], default: 'app_id' })
  @IsOptional()
  @IsIn(['app_id', 'function_id'], { message: 'by must be app_id or function_id' })
  by?: 'app_id' | 'function_id';

  @ApiPropertyOptional({
    description: `entries listed before "other", 1–${MAX_BREAKDOWN_LIMIT} (default 20)`,
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: LIMIT_MESSAGE })
  @Min(1, { message: LIMIT_MESSAGE })
  @Max(MAX_BREAKDOWN_LIMIT, { message: LIMIT_MESSAGE })
  limit?: number;
}
