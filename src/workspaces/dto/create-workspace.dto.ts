import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsEmail, IsOptional, IsString, Length, Matches } from 'class-validator';
import { WORKSPACE_ID_PATTERN } from '../../ingestion/usage-event/usage-event.dto';

export class CreateWorkspaceDto {
  @ApiProperty({ example: 'ws_acme', pattern: WORKSPACE_ID_PATTERN.source })
  @IsString()
  @Matches(WORKSPACE_ID_PATTERN, { message: 'id must match ^[a-z0-9][a-z0-9_-]{0,63}$' })
  id!: string;

  @ApiProperty({ example: 'Acme Inc.' })
  @IsString()
  @Length(1, 200)
  name!: string;

  @ApiProperty({ example: 'billing@acme.test' })
  @IsEmail()
  @Length(3, 320)
  email!: string;

  @ApiPropertyOptional({ example: 'team', description: 'a plan of the catalog; default starter' })
  @IsOptional()
  @IsString()
  plan?: string;
}

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
