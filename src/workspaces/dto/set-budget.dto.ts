import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  ValidateIf,
} from 'class-validator';

export class SetBudgetDto {
  @ApiProperty({
    example: '500.00',
    nullable: true,
    description: "limit on the month's invoice total (USD, up to two decimals); null removes the budget",
  })
  @ValidateIf((o: SetBudgetDto) => o.monthly_limit !== null)
  @IsString({ message: 'monthly_limit must be a decimal string like "500.00", or null' })
  @Matches(/^\d{1,12}(\.\d{1,2})?$/, {
    message: 'monthly_limit must be a decimal string like "500.00", or null',
  })
  monthly_limit!: string | null;

  @ApiPropertyOptional({
    example: [50, 80, 100],
    description: 'percentages of the limit, 1–1000; default [50, 80, 100]',
  })
  @IsOptional()
  @IsArray({ message: 'thresholds must be an array of whole percentages' })
  @ArrayMaxSize(10, { message: 'thresholds may hold at most 10 percentages' })
  @IsInt({ each: true, message: 'thresholds must be whole percentages' })
  @Min(1, { each: true, message: 'thresholds must be between 1 and 1000' })
  @Max(1000, { each: true, message: 'thresholds must be between 1 and 1000' })
  thresholds?: number[];

  @ApiPropertyOptional({
    example: true,
    description:
      'a hard cap: GET /v1/workspaces/{id}/allowance answers allowed: false once the month’s spend reaches the limit (default false)',
  })
  @IsOptional()
  @IsBoolean({ message: 'enforce must be true or false' })
  enforce?: boolean;
}
