import { Injectable, Logger } from '@nestjs/common';
import { Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';
import { isCausedByRecord } from '../clickhouse/clickhouse-errors';
import { describeError } from '../errors/describe-error';
import { parseUntrustedJson } from '../json/untrusted-json';
import { retryUntilDone } from '../kafka/batch-retry';
import { DeadLetter, sendDeadLetters } from '../kafka/dead-letter';
import { BILLING_MAX_MESSAGE_BYTES, KafkaAdmin } from '../kafka/kafka-admin';
import { KafkaClient } from '../kafka/kafka-client';
import { KafkaConfig } from '../kafka/kafka.config';
import { KafkaProducer } from '../kafka/kafka-producer';
import { runConsumer } from '../kafka/run-consumer';
import { MetricsService } from '../metrics/metrics.service';
import { BillingEventEnvelope } from './billing-event';
import { billingConsumerGroup, BillingEventsService } from './billing-events.service';

/** Attempts at a record that fails because of its content before it is dead-lettered. */
const RECORD_ATTEMPTS = 3;

/**
 * The billing consumer: reads billing.events.v1 from the beginning as the projections' group
 * and applies every record (BillingEventsService.project), committing only after. A record
 * that is not a billing event this build can apply is dead-lettered, never stops the rest.
 */
@Injectable()
export class BillingEventsConsumer {
  private readonly logger = new Logger(BillingEventsConsumer.name);
  private consumer?: Consumer;

  constructor(
    private readonly config: KafkaConfig,
    private readonly client: KafkaClient,
    private readonly kafka: KafkaProducer,
    private readonly admin: KafkaAdmin,
    private readonly billingEvents: BillingEventsService,
    private readonly metrics: MetricsService,
  ) {}

  get consumerGroup(): string {
    return billingConsumerGroup(this.config);
  }

  private stopping = false;
  /** false during a replay: refused records already have their dead-letter copy. */
  private deadLetter = true;
  /** Refused records a replay passed over. */
  skippedInvalid = 0;

  /** Starts the billing consumer; `deadLetter: false` is for replays (see `gpumeter replay`). */
  async startConsumer(options: { deadLetter?: boolean } = {}): Promise<void> {
    this.stopping = false;
    if (options.deadLetter !== undefined) this.deadLetter = options.deadLetter;
    const { consumer, started } = runConsumer(this.client, {
      groupId: this.consumerGroup,
      topic: this.kafka.topics.billingEvents,
      fromBeginning: true,
      fetch: { maxBytesPerPartition: BILLING_MAX_MESSAGE_BYTES },
      eachBatch: (payload) => this.handleBatch(payload),
      restart: () => this.startConsumer(),
      isStopping: () => this.stopping,
      logger: this.logger,
    });
    this.consumer = consumer;
    await started;
  }

  /**
   * One batch of billing records: decode and check each, dead-letter the refused, project the
   * rest, commit. Never throws on a record: a record that is not a billing event, that a
   * projection refuses, or that fails on every attempt because of its content is
   * dead-lettered (billing.events.dlq.v1) and everything behind it goes on. Failures that are
   * not the record's (ClickHouse or Kafka down) are retried without committing.
   */
  private async handleBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    if (batch.messages.length === 0) return;
    const deadLetters: DeadLetter[] = [];
    const events: Array<{ event: BillingEventEnvelope; message: KafkaMessage }> = [];
    for (const message of batch.messages) {
      const decoded = this.decode(message);
      if ('event' in decoded) events.push({ event: decoded.event, message });
      else deadLetters.push({ message, partition: batch.partition, ...decoded });
    }
    const retry = (what: string, step: () => Promise<unknown>) =>
      retryUntilDone(payload, what, step, this.logger, () => this.metrics.storeFailures.inc());
    await retry('projecting billing events', async () => {
      try {
        await this.billingEvents.project(events.map((e) => e.event));
      } catch (e) {
        if (!isCausedByRecord(e)) throw e;
        // Some record of the batch cannot be applied: find it by applying them one by one.
        await this.projectOneByOne(events, batch.partition, deadLetters);
      }
    });
    if (deadLetters.length > 0)
      await retry('dead-lettering billing events', () => this.deadLetterAll(deadLetters, batch.topic));
    const last = batch.messages[batch.messages.length - 1].offset;
    await retry('committing', () =>
      this.consumer!.commitOffsets([
        { topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() },
      ]),
    );
    payload.resolveOffset(last);
  }

  /** A record as a billing event every projection can apply, or why not. Never throws. */
  private decode(
    message: KafkaMessage,
  ): { event: BillingEventEnvelope } | { reason: string; detail: string } {
    try {
      const parsed = parseUntrustedJson(message.value);
      if (!parsed.ok) return { reason: 'invalid-json', detail: parsed.detail };
      const refused = this.billingEvents.refusal(parsed.value);
      if (refused) return { reason: 'invalid-event', detail: refused };
      const event = parsed.value as BillingEventEnvelope;
      if (!this.billingEvents.knows(event)) {
        // A type from a newer gpumeter: kept in the event log, applied by no projection here,
        // never read as another type (a build that knows it applies it on replay).
        this.metrics.billingEventsUnknownType.inc();
        this.logger.warn(`billing event ${event.id} has a type this build does not know (${event.type})`);
      }
      return { event };
    } catch (e) {
      return { reason: 'unprocessable', detail: describeError(e) };
    }
  }

  private async projectOneByOne(
    events: ReadonlyArray<{ event: BillingEventEnvelope; message: KafkaMessage }>,
    partition: number,
    deadLetters: DeadLetter[],
  ): Promise<void> {
    for (const { event, message } of events) {
      if (deadLetters.some((d) => d.message === message)) continue;
      for (let attempt = 1; ; attempt++) {
        try {
          await this.billingEvents.project([event]);
          break;
        } catch (e) {
          if (!isCausedByRecord(e)) throw e; // retried as a whole by the caller
          if (attempt < RECORD_ATTEMPTS) continue;
          deadLetters.push({ message, partition, reason: 'projection-failed', detail: describeError(e) });
          break;
        }
      }
    }
  }

  private async deadLetterAll(deadLetters: DeadLetter[], topic: string): Promise<void> {
    if (!this.deadLetter) {
      this.skippedInvalid += deadLetters.length;
      for (const d of deadLetters)
        this.logger.warn(
          `replay: passing over billing record at offset ${d.message.offset}: ${d.reason}: ${d.detail}`,
        );
      return;
    }
    await sendDeadLetters(this.kafka, this.kafka.topics.billingEventsDlq, topic, deadLetters);
    for (const d of deadLetters) {
      this.metrics.billingDlqMessages.inc({ reason: d.reason });
      this.logger.error(
        `dead-lettered billing record ${topic}/${d.partition}@${d.message.offset}: ${d.reason}: ${d.detail}`,
      );
    }
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
    await this.admin.awaitGroupCaughtUp(this.consumerGroup, this.kafka.topics.billingEvents, timeoutMs);
  }

  async stopConsumer(): Promise<void> {
    this.stopping = true;
    await this.consumer?.disconnect();
    this.consumer = undefined;
  }
}
