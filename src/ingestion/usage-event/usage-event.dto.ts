import 'reflect-metadata';
import { Type } from 'class-transformer';
import {
  Equals,
  IsDefined,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  registerDecorator,
  ValidateNested,
  ValidationOptions,
} from 'class-validator';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { isKnownGpuType, SEED_GPU_TYPES } from '../../catalog/gpu-types';
import { parseRfc3339Ms } from '../../common/rfc3339';
import { WORKSPACE_ID_PATTERN } from '../../common/ids';

/** Largest CPU or memory figure accepted: keeps every product with a duration an exact integer. */
export const MAX_RESOURCE_AMOUNT = 2_147_483_647;

function IsRfc3339(exactMillis: boolean, options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: exactMillis ? 'isRfc3339WithMillis' : 'isRfc3339',
      target: object.constructor,
      propertyName,
      options: {
        message: exactMillis
          ? `${propertyName} must be an RFC 3339 date-time with milliseconds, e.g. 2026-11-27T10:00:05.123Z`
          : `${propertyName} must be an RFC 3339 date-time`,
        ...options,
      },
      validator: { validate: (value: unknown) => parseRfc3339Ms(value, exactMillis) !== null },
    });
}

/** No lone surrogates: ClickHouse would store U+FFFD instead, and the string would no longer equal itself. */
export function IsWellFormedUnicode(options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'isWellFormedUnicode',
      target: object.constructor,
      propertyName,
      options: {
        message: `${propertyName} must be well-formed Unicode (it holds a lone surrogate)`,
        ...options,
      },
      validator: { validate: (value: unknown) => typeof value !== 'string' || value.isWellFormed() },
    });
}

function IsKnownGpuType(options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'isKnownGpuType',
      target: object.constructor,
      propertyName,
      options: { message: `${propertyName} must be a GPU type the price catalog knows`, ...options },
      validator: { validate: (value: unknown) => isKnownGpuType(value) },
    });
}

/**
 * The declared schema of a usage event's `data` (contract §1). The fast validator in
 * ./usage-event.fast-check.ts must accept and reject exactly what this accepts and rejects;
 * a differential test holds them together.
 */
export class UsageEventDataDto {
  @ApiProperty({ example: 'ct_9f2c' })
  @IsString()
  @IsWellFormedUnicode()
  @Length(1, 128)
  container_id!: string;

  @ApiProperty({ example: 'app_llm' })
  @IsString()
  @IsWellFormedUnicode()
  @Length(1, 128)
  app_id!: string;

  @ApiPropertyOptional({ example: 'fn_generate' })
  @IsOptional()
  @IsString()
  @IsWellFormedUnicode()
  @MaxLength(128)
  function_id?: string;

  @ApiProperty({ enum: SEED_GPU_TYPES, example: 'H100' })
  @IsKnownGpuType()
  gpu_type!: string;

  @ApiProperty({ minimum: 1, maximum: 64, example: 8 })
  @IsInt()
  @Min(1)
  @Max(64)
  gpu_count!: number;

  @ApiProperty({ example: '2026-11-27T10:00:00.000Z' })
  @IsRfc3339(true)
  started_at!: string;

  @ApiProperty({ example: '2026-11-27T10:00:05.123Z' })
  @IsRfc3339(true)
  ended_at!: string;

  @ApiPropertyOptional({ minimum: 0, example: 4000 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_RESOURCE_AMOUNT)
  cpu_millicores?: number;

  @ApiPropertyOptional({ minimum: 0, example: 32768 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_RESOURCE_AMOUNT)
  memory_mib?: number;

  @ApiPropertyOptional({ example: 'us-east' })
  @IsOptional()
  @IsString()
  @IsWellFormedUnicode()
  @MaxLength(128)
  region?: string;

  @ApiPropertyOptional({ example: 'oci' })
  @IsOptional()
  @IsString()
  @IsWellFormedUnicode()
  @MaxLength(128)
  provider?: string;
}

/** The declared schema of a usage CloudEvent (contract §1), field rules only. */
export class UsageEventDto {
  @ApiProperty({ example: '1.0' })
  @Equals('1.0')
  specversion!: string;

  @ApiProperty({ example: 'ct_9f2c:1764237600000' })
  @IsString()
  @IsWellFormedUnicode()
  @Length(1, 128)
  id!: string;

  @ApiProperty({ example: 'agent://gpu-host-17' })
  @IsString()
  @IsWellFormedUnicode()
  @Length(1, 256)
  source!: string;

  @ApiProperty({ example: 'gpu.usage.v1' })
  @Equals('gpu.usage.v1')
  type!: string;

  @ApiProperty({ example: 'ws_acme', pattern: WORKSPACE_ID_PATTERN.source })
  @IsString()
  @IsWellFormedUnicode()
  @Matches(WORKSPACE_ID_PATTERN)
  subject!: string;

  @ApiProperty({ example: '2026-11-27T10:00:05.123Z' })
  @IsRfc3339(false)
  time!: string;

  @ApiPropertyOptional({ example: 'application/json' })
  @IsOptional()
  @IsString()
  @IsWellFormedUnicode()
  datacontenttype?: string;

  @ApiProperty({ type: UsageEventDataDto })
  @IsDefined()
  @IsObject()
  @ValidateNested()
  @Type(() => UsageEventDataDto)
  data!: UsageEventDataDto;
}
