import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString } from 'class-validator';

export class ChangePlanDto {
  @ApiProperty({ example: 'team' })
  @IsString()
  plan!: string;

  @ApiPropertyOptional({
    example: '2027-01-01T00:00:00Z',
    description: 'the start of a billing period (UTC month); default the next one',
  })
  @IsOptional()
  @IsString()
  effective_from?: string;
}
