import { Global, Module } from '@nestjs/common';
import { ClickHouseService } from './clickhouse/clickhouse.service';
import { KafkaService } from './kafka/kafka.service';
import { MetricsService } from './metrics/metrics.service';

/** Outside systems (Kafka, ClickHouse) and cross-cutting services, one injectable each. */
@Global()
@Module({
  providers: [KafkaService, ClickHouseService, MetricsService],
  exports: [KafkaService, ClickHouseService, MetricsService],
})
export class PlatformModule {}
