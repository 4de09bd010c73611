import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { GRANT_KINDS } from '../credit-grants';

export class CreateCreditGrantDto {
  @ApiPropertyOptional({
    example: 'cg_welcome_2026',
    description:
      'the grant’s id (cg_…); sending the same grant again with it is answered with the grant, not a second one',
  })
  @IsOptional()
  @Matches(/^cg_[A-Za-z0-9_-]{1,64}$/, { message: 'id must be cg_ followed by 1–64 letters, digits, _ or -' })
  id?: string;

  @ApiProperty({ example: '250.00', description: 'USD, more than zero, up to two decimals' })
  @IsString({ message: 'amount must be a decimal string like "250.00"' })
  @Matches(/^\d{1,12}(\.\d{1,2})?$/, { message: 'amount must be a decimal string like "250.00"' })
  amount!: string;

  @ApiPropertyOptional({ example: 'usd', description: 'usd (the only currency gpumeter bills in)' })
  @IsOptional()
  @IsIn(['usd'], { message: 'currency must be usd' })
  currency?: string;

  @ApiProperty({ enum: GRANT_KINDS })
  @IsIn(GRANT_KINDS, { message: `kind must be one of ${GRANT_KINDS.join(', ')}` })
  kind!: (typeof GRANT_KINDS)[number];

  @ApiPropertyOptional({
    example: 50,
    description: '0–100; lower is consumed first (default 50; a plan’s monthly credits are 0)',
  })
  @IsOptional()
  @IsInt({ message: 'priority must be a whole number from 0 to 100' })
  @Min(0, { message: 'priority must be a whole number from 0 to 100' })
  @Max(100, { message: 'priority must be a whole number from 0 to 100' })
  priority?: number;

  @ApiPropertyOptional({ format: 'date-time', description: 'default now; not inside a closed month' })
  @IsOptional()
  @IsString({ message: 'effective_at must be an RFC 3339 date-time' })
  effective_at?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'unset: it never expires' })
  @IsOptional()
  @IsString({ message: 'expires_at must be an RFC 3339 date-time' })
  expires_at?: string;

  @ApiProperty({ example: 'Welcome credit', description: '1–500 characters, shown on invoices' })
  @IsString({ message: 'reason must be a text of 1–500 characters' })
  @Length(1, 500, { message: 'reason must be a text of 1–500 characters' })
  reason!: string;
}

export class VoidCreditGrantDto {
  @ApiPropertyOptional({ example: 'customer churned', description: 'why, up to 500 characters' })
  @IsOptional()
  @IsString({ message: 'reason must be a text of at most 500 characters' })
  @Length(0, 500, { message: 'reason must be a text of at most 500 characters' })
  reason?: string;
}
