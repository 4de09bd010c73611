import { ApiProperty } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsString,
  Matches,
  MaxLength,
  MinLength,
} from 'class-validator';
import { MAX_SOURCE_PATTERNS, SOURCE_PATTERN } from '../source-patterns';

export class CreateAgentTokenDto {
  @ApiProperty({ example: 'gpu-host-17' })
  @IsString({ message: 'name must be a string' })
  @MinLength(1, { message: 'name must not be empty' })
  @MaxLength(200)
  name!: string;

  @ApiProperty({
    example: ['agent://gpu-host-17', 'agent://rack-4/*'],
    description: 'the CloudEvents sources the token may write; `*` stands for any characters',
  })
  @IsArray({ message: 'sources must be an array of source patterns' })
  @ArrayMinSize(1, { message: 'sources must name at least one source' })
  @ArrayMaxSize(MAX_SOURCE_PATTERNS)
  @Matches(SOURCE_PATTERN, {
    each: true,
    message:
      'sources: each must be 1–512 printable ASCII characters without spaces (agent://host-17, agent://rack-4/*)',
  })
  sources!: string[];
}
