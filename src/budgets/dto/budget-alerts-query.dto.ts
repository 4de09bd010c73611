import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import { IsBillingPeriod } from '../../invoicing/is-billing-period';

export class BudgetAlertsQueryDto {
  @ApiPropertyOptional({ example: '2026-11', description: 'default: the current month' })
  @IsOptional()
  @IsBillingPeriod()
  period?: string;
}
