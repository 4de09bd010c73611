import { IsBillingPeriod } from '../../invoicing/is-billing-period';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString } from 'class-validator';

export class ReconciliationQueryDto {
  @ApiProperty({ example: '2026-10' })
  @IsString({ message: 'period is required: YYYY-MM' })
  @IsBillingPeriod()
  period!: string;

  @ApiPropertyOptional({
    enum: ['true', 'false'],
    default: 'false',
    description:
      'also compare with Stripe: two Stripe reads per pushed invoice (rate-limited; minutes at 10,000)',
  })
  @IsOptional()
  @IsIn(['true', 'false'], { message: 'stripe must be true or false' })
  stripe?: 'true' | 'false';
}
