import { IsBillingPeriod } from './is-billing-period';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString } from 'class-validator';

export class InvoiceRunRequestDto {
  @ApiProperty({ example: '2026-11', description: 'a calendar month (UTC), YYYY-MM' })
  @IsString()
  @IsBillingPeriod()
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
  @IsBillingPeriod()
  period?: string;
}
