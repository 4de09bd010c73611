import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsObject, IsOptional, IsString, Length, Matches } from 'class-validator';
import { BILLING_THRESHOLD_PATTERN, MONEY_PATTERN, PLAN_PATTERN, PRICE_PATTERN } from '../patterns';

export class PriceChangeDto {
  @ApiProperty({
    example: '2026-12-01T00:00:00Z',
    description: 'RFC 3339; any instant (millisecond precision)',
  })
  @IsString()
  effective_from!: string;

  @ApiPropertyOptional({ example: { H100: '0.001150' }, description: 'USD per GPU-second, per GPU type' })
  @IsOptional()
  @IsObject()
  gpu_per_second?: Record<string, string>;

  @ApiPropertyOptional({ example: '0.0000131' })
  @IsOptional()
  @IsString()
  @Matches(PRICE_PATTERN, { message: 'cpu_per_core_second must be a decimal string like "0.0000131"' })
  cpu_per_core_second?: string;

  @ApiPropertyOptional({ example: '0.00000222' })
  @IsOptional()
  @IsString()
  @Matches(PRICE_PATTERN, { message: 'memory_per_gib_second must be a decimal string like "0.00000222"' })
  memory_per_gib_second?: string;
}

export class PlanChangeDto {
  @ApiProperty({
    example: '2027-01-01T00:00:00Z',
    description: 'RFC 3339; the terms apply to billing periods that start at or after it',
  })
  @IsString()
  effective_from!: string;

  @ApiProperty({ example: 'team' })
  @IsString()
  @Matches(PLAN_PATTERN, { message: 'plan must match ^[a-z][a-z0-9_-]{0,31}$' })
  plan!: string;

  @ApiProperty({ example: '250.00' })
  @IsString()
  @Matches(MONEY_PATTERN, { message: 'base_fee must be a decimal string like "250.00"' })
  base_fee!: string;

  @ApiProperty({ example: '100.00' })
  @IsString()
  @Matches(MONEY_PATTERN, { message: 'monthly_credits must be a decimal string like "100.00"' })
  monthly_credits!: string;

  @ApiPropertyOptional({
    example: '500.00',
    nullable: true,
    description:
      'unbilled spend of an open month at which a threshold invoice is drawn up (USD, at least 1.00); null: none; absent: unchanged',
  })
  @IsOptional()
  @IsString({ message: 'billing_threshold must be a decimal string like "500.00", or null' })
  @Matches(BILLING_THRESHOLD_PATTERN, {
    message: 'billing_threshold must be a decimal string of at least 1.00 like "500.00", or null',
  })
  billing_threshold?: string | null;
}

export class CostChangeDto {
  @ApiProperty({
    example: '2026-12-01T00:00:00Z',
    description: 'RFC 3339; any instant (closed months too: costs change no invoice)',
  })
  @IsString()
  effective_from!: string;

  @ApiProperty({ example: 'oci', description: 'the provider, as usage events name it in data.provider' })
  @IsString({ message: 'provider must be a string of 1 to 128 characters' })
  @Length(1, 128, { message: 'provider must be a string of 1 to 128 characters' })
  provider!: string;

  @ApiPropertyOptional({ example: { H100: '0.00062' }, description: 'USD per GPU-second, per GPU type' })
  @IsOptional()
  @IsObject({ message: 'gpu_per_second must be an object of GPU type to decimal string' })
  gpu_per_second?: Record<string, string>;

  @ApiPropertyOptional({ example: '0.000004', description: 'USD per core-second ("0": included)' })
  @IsOptional()
  @IsString()
  @Matches(PRICE_PATTERN, { message: 'cpu_per_core_second must be a decimal string like "0.000004"' })
  cpu_per_core_second?: string;

  @ApiPropertyOptional({ example: '0.0000005', description: 'USD per GiB-second ("0": included)' })
  @IsOptional()
  @IsString()
  @Matches(PRICE_PATTERN, { message: 'memory_per_gib_second must be a decimal string like "0.0000005"' })
  memory_per_gib_second?: string;
}
