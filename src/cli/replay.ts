import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { appModule } from '../app.module';
import { loadConfig } from '../app-config';
import { UsageConsumerService } from '../metering/usage-consumer.service';
import { UsageEventsRepository } from '../metering/usage-events.repository';
import { BillingEventsService } from '../platform/billing-events/billing-events.service';
import { BillingEventsConsumer } from '../platform/billing-events/billing-events-consumer.service';
import { migrate } from '../platform/clickhouse/migrator';
import { KafkaAdmin } from '../platform/kafka/kafka-admin';
import { HOUR_MS } from '../common/time';

const REPLAY_TIMEOUT_MS = 6 * HOUR_MS;

/**
 * `gpumeter replay [--database NAME]`: rebuilds every ClickHouse projection from Kafka, the
 * system of record, into a new database — never into the live one. Both topics are read from
 * the beginning by fresh consumer groups through the same code the service runs (validation,
 * dedupe, rollups; billing projections), up to what they held when the replay started.
 * Invalid messages are passed over, not dead-lettered again (their DLQ copy exists). Point
 * CLICKHOUSE_DATABASE at the new database to use it. Prints a JSON summary.
 */
export async function replayCommand(
  env: Record<string, string | undefined>,
  root: string,
  databaseOption: string | undefined,
  print: (line: string) => void,
): Promise<number> {
  const base = loadConfig(env);
  const stamp = new Date()
    .toISOString()
    .replace(/[-:T.Z]/g, '')
    .slice(0, 14);
  const database = databaseOption ?? `${base.CLICKHOUSE_DATABASE}_replay_${stamp}`;
  if (database === base.CLICKHOUSE_DATABASE) {
    print(`replay builds a new database; it never writes into the live one (${database})`);
    return 2;
  }
  const config = loadConfig({
    ...env,
    CLICKHOUSE_DATABASE: database,
    KAFKA_CONSUMER_GROUP: `${base.KAFKA_CONSUMER_GROUP}-replay-${stamp}-${randomBytes(3).toString('hex')}`,
    INVOICE_SCHEDULER_INTERVAL_SECONDS: '0',
  });
  await migrate(config, join(root, 'migrations'));
  const started = Date.now();
  const app = await NestFactory.createApplicationContext(appModule(config), { bufferLogs: true });
  app.useLogger(app.get(Logger));
  const kafka = app.get(KafkaAdmin);
  const usage = app.get(UsageConsumerService);
  const billing = app.get(BillingEventsConsumer);
  const billingEvents = app.get(BillingEventsService);
  const stored = app.get(UsageEventsRepository);
  try {
    if ((await stored.totals()).events > 0n) {
      print(`database ${database} already holds usage events: replay into a new database`);
      return 2;
    }
    await usage.start({ deadLetter: false });
    await billing.startConsumer({ deadLetter: false });
    await Promise.all([
      kafka.awaitGroupCaughtUp(config.KAFKA_CONSUMER_GROUP, kafka.topics.usageEvents, REPLAY_TIMEOUT_MS),
      kafka.awaitGroupCaughtUp(billing.consumerGroup, kafka.topics.billingEvents, REPLAY_TIMEOUT_MS),
    ]);
    await usage.stop();
    await billing.stopConsumer();
    await kafka.deleteGroups([config.KAFKA_CONSUMER_GROUP, billing.consumerGroup]);
    const totals = await stored.totals();
    print(
      JSON.stringify({
        database,
        usage_events: totals.events.toString(),
        gpu_ms: totals.gpu_ms.toString(),
        billing_events: (await billingEvents.count()).toString(),
        invalid_messages_passed_over: usage.skippedInvalid,
        invalid_billing_records_passed_over: billing.skippedInvalid,
        seconds: Math.round((Date.now() - started) / 100) / 10,
      }),
    );
    return 0;
  } finally {
    await app.close();
  }
}
