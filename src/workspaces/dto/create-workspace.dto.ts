import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsEmail, IsOptional, IsString, Length, Matches } from 'class-validator';
import { WORKSPACE_ID_PATTERN } from '../../common/ids';

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
