import { ApiProperty } from '@nestjs/swagger';

export class LivenessResponse {
  @ApiProperty({ enum: ['ok'] })
  status!: 'ok';
}

/** GET /readyz: 200 when both are reachable, 503 (same shape) naming the one that is not. */
export class ReadinessResponse {
  @ApiProperty({ enum: ['ready', 'not_ready'] })
  status!: 'ready' | 'not_ready';
  @ApiProperty({ enum: ['up', 'down'] })
  kafka!: 'up' | 'down';
  @ApiProperty({ enum: ['up', 'down'] })
  clickhouse!: 'up' | 'down';
}
