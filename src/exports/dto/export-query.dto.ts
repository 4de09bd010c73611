import { IsBillingPeriod } from '../../invoicing/is-billing-period';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches } from 'class-validator';
import { WORKSPACE_ID_PATTERN } from '../../common/ids';
import { IsMarginGroupBy } from '../../reports/is-margin-group-by';
import { MARGIN_GROUP_KEYS, MarginGroupKey } from '../../reports/margin';

export const EXPORT_FORMATS = ['csv', 'jsonl'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** What every export takes: its format and, optionally, one workspace. */
class ExportQueryDto {
  @ApiPropertyOptional({ enum: EXPORT_FORMATS, default: 'csv' })
  @IsOptional()
  @IsIn(EXPORT_FORMATS, { message: 'format must be csv or jsonl' })
  format?: ExportFormat;

  @ApiPropertyOptional({ description: 'only this workspace (default: every workspace)' })
  @IsOptional()
  @Matches(WORKSPACE_ID_PATTERN, { message: 'workspace_id must match ^[a-z0-9][a-z0-9_-]{0,63}$' })
  workspace_id?: string;
}

export class UsageExportQueryDto extends ExportQueryDto {
  @ApiProperty({ description: 'RFC 3339, a whole hour (UTC), inclusive', example: '2026-10-01T00:00:00Z' })
  @IsString({ message: 'from is required: an RFC 3339 whole hour' })
  from!: string;

  @ApiProperty({ description: 'RFC 3339, a whole hour (UTC), exclusive', example: '2026-11-01T00:00:00Z' })
  @IsString({ message: 'to is required: an RFC 3339 whole hour' })
  to!: string;
}

export class InvoiceExportQueryDto extends ExportQueryDto {
  @ApiProperty({ description: 'YYYY-MM', example: '2026-10' })
  @IsString({ message: 'period is required: YYYY-MM' })
  @IsBillingPeriod()
  period!: string;
}

/** The events behind an invoice line: only the format. */
export class LineEventsQueryDto {
  @ApiPropertyOptional({ enum: EXPORT_FORMATS, default: 'csv' })
  @IsOptional()
  @IsIn(EXPORT_FORMATS, { message: 'format must be csv or jsonl' })
  format?: ExportFormat;
}

/** The margin report as an export (src/reports): its month, groups and the format. */
export class MarginExportQueryDto {
  @ApiProperty({ description: 'YYYY-MM', example: '2026-11' })
  @IsString({ message: 'period is required: YYYY-MM' })
  @IsBillingPeriod()
  period!: string;

  @ApiPropertyOptional({
    description: `comma-separated, any of ${MARGIN_GROUP_KEYS.join(', ')} (default provider,gpu_type)`,
    type: String,
  })
  @IsOptional()
  @IsMarginGroupBy()
  group_by?: MarginGroupKey[];

  @ApiPropertyOptional({ enum: EXPORT_FORMATS, default: 'csv' })
  @IsOptional()
  @IsIn(EXPORT_FORMATS, { message: 'format must be csv or jsonl' })
  format?: ExportFormat;
}
