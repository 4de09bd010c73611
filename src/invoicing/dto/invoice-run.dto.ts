import { IsBillingPeriod } from '../is-billing-period';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { InvoiceRunMode } from '../invoice-events';
import { MAX_PAGE_SIZE } from '../invoice-views.service';

export class InvoiceRunRequestDto {
  @ApiProperty({ example: '2026-11', description: 'a calendar month (UTC), YYYY-MM' })
  @IsString()
  @IsBillingPeriod()
  period!: string;

  @ApiPropertyOptional({
    enum: ['month_end', 'threshold'],
    description:
      'month_end (default): invoice a month that has ended; threshold: draw up the threshold invoices now due in a month not finalized yet',
  })
  @IsOptional()
  @IsIn(['month_end', 'threshold'], { message: 'mode must be month_end or threshold' })
  mode?: InvoiceRunMode;
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

  @ApiPropertyOptional({ description: 'invoices per page, 1–100 (default 100)' })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be a whole number from 1 to 100' })
  @Min(1, { message: 'limit must be a whole number from 1 to 100' })
  @Max(MAX_PAGE_SIZE, { message: 'limit must be a whole number from 1 to 100' })
  limit?: number;

  @ApiPropertyOptional({ description: 'the id of the last invoice of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  starting_after?: string;
}
