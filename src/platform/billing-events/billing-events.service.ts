import { Injectable, Logger } from '@nestjs/common';
import { Consumer } from 'kafkajs';
import { AppConfig } from '../../config/app-config';
import { KafkaService } from '../kafka/kafka.service';
import { superviseConsumer } from '../kafka/supervise-consumer';
import { BillingEvent, BillingEventProjection } from './billing-event';
import { BillingEventsRepository } from './billing-events.repository';

/**
 * Publishes billing domain events (Kafka first: it is the system of record) and keeps the
 * ClickHouse projections of them up to date. A publisher applies its own event right after
 * Kafka acknowledged it, so the API reads its own writes; the consumer applies every event
 * again from the topic (and a replay does from the beginning), which changes nothing
 * because projections are idempotent.
 */
@Injectable()
export class BillingEventsService {
  private readonly logger = new Logger(BillingEventsService.name);
  private consumer?: Consumer;
  private readonly projections: BillingEventProjection[] = [];

  constructor(
    private readonly config: AppConfig,
    private readonly kafka: KafkaService,
    private readonly repository: BillingEventsRepository,
  ) {}

  /** Domain modules register their projections at module init. */
  register(projection: BillingEventProjection): void {
    this.projections.push(projection);
  }

  async publish(event: BillingEvent): Promise<void> {
    await this.kafka.send(this.kafka.topics.billingEvents, [
      { key: event.subject, value: JSON.stringify(event) },
    ]);
    await this.project([event]);
  }

  async project(events: BillingEvent[]): Promise<void> {
    await this.repository.append(events);
    for (const event of events) {
      for (const p of this.projections) if (p.handles.includes(event.type)) await p.apply(event);
    }
  }

  private stopping = false;

  async startConsumer(): Promise<void> {
    const consumer = this.kafka.createConsumer({
      groupId: `${this.config.KAFKA_CONSUMER_GROUP}-billing`,
    });
    this.consumer = consumer;
    superviseConsumer(
      consumer,
      () => this.startConsumer(),
      () => this.stopping,
      this.logger,
    );
    await consumer.connect();
    await consumer.subscribe({ topic: this.kafka.topics.billingEvents, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, isRunning, isStale }) => {
        const events: BillingEvent[] = [];
        for (const m of batch.messages) {
          try {
            events.push(JSON.parse(m.value?.toString('utf8') ?? '') as BillingEvent);
          } catch (e) {
            this.logger.error(
              `billing event at offset ${m.offset} is not JSON, skipped: ${(e as Error).message}`,
            );
          }
        }
        if (!isRunning() || isStale()) return;
        // An error here leaves the offsets where they were; kafkajs retries the batch.
        await this.project(events);
        const last = batch.messages[batch.messages.length - 1].offset;
        await consumer.commitOffsets([
          { topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() },
        ]);
        resolveOffset(last);
      },
    });
  }

  async stopConsumer(): Promise<void> {
    this.stopping = true;
    await this.consumer?.disconnect();
    this.consumer = undefined;
  }
}
