import { Global, Module } from '@nestjs/common';
import { ClickHouseService } from './clickhouse/clickhouse.service';
import { KafkaAdmin } from './kafka/kafka-admin';
import { KafkaClient } from './kafka/kafka-client';
import { KafkaProducer } from './kafka/kafka-producer';
import { StoredRows } from './clickhouse/stored-rows';
import { UsageStoredSignal } from './usage-stored-signal';
import { MetricsService } from './metrics/metrics.service';
import { FaultInjection } from './fault-injection';
import { Clock, clockFor } from './clock';
import { RuntimeConfig } from '../config/runtime.config';

/** Shared by every module as they are. */
const SHARED = [
  KafkaClient,
  KafkaProducer,
  KafkaAdmin,
  ClickHouseService,
  MetricsService,
  StoredRows,
  UsageStoredSignal,
  FaultInjection,
];

/** Outside systems (Kafka, ClickHouse), the clock and cross-cutting services, one injectable each. */
@Global()
@Module({
  providers: [
    ...SHARED,
    {
      provide: Clock,
      inject: [RuntimeConfig],
      useFactory: clockFor,
    },
  ],
  exports: [...SHARED, Clock],
})
export class PlatformModule {}
