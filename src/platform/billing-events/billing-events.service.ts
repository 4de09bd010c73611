import { Injectable, Logger } from '@nestjs/common';
import { Consumer } from 'kafkajs';
import { AppConfig } from '../../config/app-config';
import { BILLING_MAX_MESSAGE_BYTES, KafkaService } from '../kafka/kafka.service';
import { superviseConsumer } from '../kafka/supervise-consumer';
import { BillingEvent, BillingEventProjection } from './billing-event';
import { BillingEventsRepository } from './billing-events.repository';

/** Bytes of events per Kafka request when publishing many (well under the broker's limit). */
const CHUNK_BYTES = 512 * 1024;

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
    await this.publishAll([event]);
  }

  /**
   * Publishes events in order, in Kafka requests of at most ~512 KB (brokers refuse requests
   * over their message size limit), projecting each chunk once Kafka acknowledged it.
   */
  async publishAll(events: readonly BillingEvent[]): Promise<void> {
    let chunk: BillingEvent[] = [];
    let messages: { key: string; value: string }[] = [];
    let bytes = 0;
    const flush = async () => {
      if (chunk.length === 0) return;
      await this.kafka.send(this.kafka.topics.billingEvents, messages);
      await this.project(chunk);
      chunk = [];
      messages = [];
      bytes = 0;
    };
    for (const e of events) {
      const value = JSON.stringify(e);
      if (Buffer.byteLength(value) > BILLING_MAX_MESSAGE_BYTES)
        throw new Error(`billing event ${e.id} is larger than ${BILLING_MAX_MESSAGE_BYTES} bytes`);
      if (bytes + value.length > CHUNK_BYTES) await flush();
      chunk.push(e);
      messages.push({ key: e.subject, value });
      bytes += value.length;
    }
    await flush();
  }

  async project(events: BillingEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.repository.append(events);
    for (const p of this.projections) {
      const mine = events.filter((e) => p.handles.includes(e.type));
      if (mine.length === 0) continue;
      if (p.applyBatch) await p.applyBatch(mine);
      else for (const event of mine) await p.apply(event);
    }
  }

  /** Distinct billing events in the projection's log. */
  async count(): Promise<bigint> {
    return this.repository.count();
  }

  get consumerGroup(): string {
    return this.groupId;
  }

  /** Whether an event with this id was ever published (for events with deterministic ids). */
  async exists(id: string): Promise<boolean> {
    return this.repository.exists(id);
  }

  private stopping = false;

  async startConsumer(): Promise<void> {
    this.stopping = false;
    const consumer = this.kafka.createConsumer({
      groupId: this.groupId,
      maxBytesPerPartition: BILLING_MAX_MESSAGE_BYTES,
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

  private get groupId(): string {
    return `${this.config.KAFKA_CONSUMER_GROUP}-billing`;
  }

  /**
   * Makes the projections reflect every billing event published so far: starts this
   * process's billing consumer when it is not running and waits until the group has
   * projected and committed everything the topic held at the call. Decisions that read
   * projections (invoice runs) call this first, so that nothing Kafka has — e.g. a
   * finalization a killed run published but never projected — is missed.
   */
  async catchUp(timeoutMs = 120_000): Promise<void> {
    if (!this.consumer) await this.startConsumer();
    await this.kafka.awaitGroupCaughtUp(this.groupId, this.kafka.topics.billingEvents, timeoutMs);
  }

  async stopConsumer(): Promise<void> {
    this.stopping = true;
    await this.consumer?.disconnect();
    this.consumer = undefined;
  }
}
