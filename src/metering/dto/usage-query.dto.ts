import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches } from 'class-validator';
import { WORKSPACE_ID_PATTERN } from '../../common/ids';

/** The span and workspace every usage read takes. */
export class UsageSpanQueryDto {
  @ApiPropertyOptional({ description: 'RFC 3339, a whole hour (UTC); default: start of the current month' })
  @IsOptional()
  @IsString()
  from?: string;

  @ApiPropertyOptional({
    description: 'RFC 3339, a whole hour (UTC), exclusive; default: the end of the current hour',
  })
  @IsOptional()
  @IsString()
  to?: string;

  @ApiPropertyOptional({ description: 'operator only: the workspace to read' })
  @IsOptional()
  @Matches(WORKSPACE_ID_PATTERN, { message: 'workspace_id must match ^[a-z0-9][a-z0-9_-]{0,63}$' })
  workspace_id?: string;
}

export class UsageQueryDto extends UsageSpanQueryDto {
  @ApiPropertyOptional({ enum: ['hour', 'day', 'month'], default: 'day' })
  @IsOptional()
  @IsIn(['hour', 'day', 'month'])
  window?: 'hour' | 'day' | 'month';

  @ApiPropertyOptional({ description: 'comma-separated subset of gpu_type,app_id,function_id,region' })
  @IsOptional()
  @Matches(/^(gpu_type|app_id|function_id|region)(,(gpu_type|app_id|function_id|region))*$/, {
    message: 'group_by must be a comma-separated list of gpu_type, app_id, function_id, region',
  })
  group_by?: string;
}
