import { Global, Module } from '@nestjs/common';
import { ClickHouseService } from './clickhouse/clickhouse.service';
import { KafkaService } from './kafka/kafka.service';
import { StoredRows } from './clickhouse/stored-rows';
import { UsageStoredSignal } from './usage-stored-signal';
import { MetricsService } from './metrics/metrics.service';
import { FaultInjection } from './fault-injection';

/** Outside systems (Kafka, ClickHouse) and cross-cutting services, one injectable each. */
@Global()
@Module({
  providers: [KafkaService, ClickHouseService, MetricsService, StoredRows, UsageStoredSignal, FaultInjection],
  exports: [KafkaService, ClickHouseService, MetricsService, StoredRows, UsageStoredSignal, FaultInjection],
})
export class PlatformModule {}
