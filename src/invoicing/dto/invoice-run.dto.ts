import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches } from 'class-validator';
import { BillingPeriod } from '../billing-period';

export class InvoiceRunRequestDto {
  @ApiProperty({ example: '2026-11', description: 'a calendar month (UTC), YYYY-MM' })
  @IsString()
  @Matches(BillingPeriod.PATTERN, { message: 'period must be a month written YYYY-MM' })
  period!: string;
}

export class InvoiceListQueryDto {
  @ApiPropertyOptional({ description: 'operator only: one workspace' })
  @IsOptional()
  @IsString()
  workspace_id?: string;

  @ApiPropertyOptional({ example: '2026-11' })
  @IsOptional()
  @IsString()
  @Matches(BillingPeriod.PATTERN, { message: 'period must be a month written YYYY-MM' })
  period?: string;
}
