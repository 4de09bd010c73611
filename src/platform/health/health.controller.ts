import { LivenessResponse, ReadinessResponse } from './dto/health.response';
import { Controller, Get, Header, HttpCode, Res } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '../../common/access';
import { ClickHouseService } from '../clickhouse/clickhouse.service';
import { KafkaAdmin } from '../kafka/kafka-admin';
import { MetricsService } from '../metrics/metrics.service';

@ApiTags('operations')
// Health is for load balancers; who may read /metrics is decided at the HTTP edge
// (guardOperationsPages: the metrics port, or the operator key).
@Public()
@Controller()
export class HealthController {
  constructor(
    private readonly kafka: KafkaAdmin,
    private readonly clickhouse: ClickHouseService,
    private readonly metrics: MetricsService,
  ) {}

  /** Liveness: the process answers. */
  @ApiOkResponse({ type: LivenessResponse })
  @Get('healthz')
  @HttpCode(200)
  healthz() {
    return { status: 'ok' };
  }

  /** Readiness: Kafka and ClickHouse both reachable; 503 naming the one that is not. */
  @ApiOkResponse({ type: ReadinessResponse, description: 'ready; 503 with the same shape when not' })
  @Get('readyz')
  async readyz(@Res({ passthrough: true }) res: Response) {
    const [kafka, clickhouse] = await Promise.all([this.kafka.isReachable(), this.clickhouse.ping()]);
    const ready = kafka && clickhouse;
    res.status(ready ? 200 : 503);
    return {
      status: ready ? 'ready' : 'not_ready',
      kafka: kafka ? 'up' : 'down',
      clickhouse: clickhouse ? 'up' : 'down',
    };
  }

  @Get('metrics')
  @ApiExcludeEndpoint()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  async prometheus() {
    return this.metrics.registry.metrics();
  }
}
