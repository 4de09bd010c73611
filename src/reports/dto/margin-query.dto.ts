import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString } from 'class-validator';
import { IsBillingPeriod } from '../../invoicing/is-billing-period';
import { IsMarginGroupBy } from '../is-margin-group-by';
import { MARGIN_GROUP_KEYS, MarginGroupKey } from '../margin';

export class MarginQueryDto {
  @ApiProperty({ description: 'YYYY-MM', example: '2026-11' })
  @IsString({ message: 'period is required: YYYY-MM' })
  @IsBillingPeriod()
  period!: string;

  @ApiPropertyOptional({
    description: `comma-separated, any of ${MARGIN_GROUP_KEYS.join(', ')} (default provider,gpu_type)`,
    example: 'provider,gpu_type,region',
    type: String,
  })
  @IsOptional()
  @IsMarginGroupBy()
  group_by?: MarginGroupKey[];
}
