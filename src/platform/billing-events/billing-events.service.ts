import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';
import { AppConfig } from '../../config/app-config';
import { BILLING_MAX_MESSAGE_BYTES, KafkaService } from '../kafka/kafka.service';
import { superviseConsumer } from '../kafka/supervise-consumer';
import {
  BillingEvent,
  BillingEventEnvelope,
  BillingEventProjection,
  BillingEventType,
} from './billing-event';
import { BillingEventsRepository } from './billing-events.repository';
import { BillingEventSchemas, Refusal } from './billing-event-schemas';
import { BillingEventDefinitions } from './billing-event-types';
import { RegisteredBillingEvents } from './provide-billing-events';
import { isCausedByRecord } from '../clickhouse/clickhouse-errors';
import { describeError } from '../errors/describe-error';
import { parseUntrustedJson } from '../json/untrusted-json';
import { BatchAbandoned, retryUntilDone } from '../kafka/batch-retry';
import { DeadLetter, sendDeadLetters } from '../kafka/dead-letter';
import { MetricsService } from '../metrics/metrics.service';

/** Events projected per round when publishing many (Kafka requests are bounded by bytes in send). */
const PUBLISH_CHUNK_EVENTS = 2000;
/** Attempts at a record that fails because of its content before it is dead-lettered. */
const RECORD_ATTEMPTS = 3;

/**
 * Publishes billing domain events (Kafka first: it is the system of record) and keeps the
 * ClickHouse projections of them up to date. A publisher applies its own event right after
 * Kafka acknowledged it, so the API reads its own writes; the consumer applies every event
 * again from the topic (and a replay does from the beginning), which changes nothing
 * because projections are idempotent.
 */
@Injectable()
export class BillingEventsService implements OnModuleInit {
  private readonly logger = new Logger(BillingEventsService.name);
  private consumer?: Consumer;
  private readonly projections: BillingEventProjection[] = [];
  private readonly schemas = new BillingEventSchemas();

  constructor(
    private readonly config: AppConfig,
    private readonly kafka: KafkaService,
    private readonly repository: BillingEventsRepository,
    private readonly metrics: MetricsService,
    private readonly discovery: DiscoveryService,
  ) {}

  /**
   * Finds what the domain modules provide — their event types (provideBillingEvents) and
   * their projections (every BillingEventProjection) — once every provider exists and before
   * any module's own start-up (platform's hooks run first), so no event is checked or
   * consumed before its type is known. A projection of a type nobody defined stops start-up.
   */
  onModuleInit(): void {
    const instances = this.discovery.getProviders().map((w) => w.instance as unknown);
    for (const i of instances) if (i instanceof RegisteredBillingEvents) this.defineTypes(i.definitions);
    for (const i of instances) if (i instanceof BillingEventProjection) this.addProjection(i);
  }

  defineTypes(definitions: BillingEventDefinitions): void {
    this.schemas.define(definitions);
  }

  addProjection(projection: BillingEventProjection): void {
    const unknown = projection.handles.filter((t) => !this.schemas.knows(t));
    if (unknown.length > 0)
      throw new Error(`${projection.constructor.name} projects types nobody defined: ${unknown.join(', ')}`);
    if (!this.projections.includes(projection)) this.projections.push(projection);
  }

  /** The types this build knows, and which projections apply each (for tests and docs). */
  get knownTypes(): string[] {
    return this.schemas.known;
  }

  projectionsOf(type: string): string[] {
    return this.projections
      .filter((p) => (p.handles as readonly string[]).includes(type))
      .map((p) => p.constructor.name);
  }

  /** Whether this build knows the record's type (a newer build's is kept, applied by nobody). */
  private knows(e: BillingEventEnvelope): e is BillingEventEnvelope<BillingEventType> {
    return this.schemas.knows(e.type);
  }

  async publish(event: BillingEvent): Promise<void> {
    await this.publishAll([event]);
  }

  /**
   * Why an event cannot be published or projected — its envelope, its type's payload schema
   * or what the schema cannot say (BillingEventSchemas) — or null.
   */
  refusal(raw: unknown): Refusal {
    return this.schemas.refusal(raw);
  }

  /** The same check of a payload read back from a projection's own rows (an older build's). */
  payloadRefusal(type: BillingEventType, subject: string, data: unknown): Refusal {
    return this.schemas.payloadRefusal(type, subject, data);
  }

  /**
   * A record's value as a billing event of a known type that every projection accepts, or
   * null (for readers of the topic other than the projections: what is not a valid billing
   * event is the billing consumer's to dead-letter, a type this build does not know is none
   * of their business).
   */
  acceptable(raw: unknown): BillingEvent | null {
    if (this.refusal(raw) !== null) return null;
    const event = raw as BillingEventEnvelope;
    return this.knows(event) ? (event as BillingEvent) : null;
  }

  /**
   * Publishes events in order (KafkaService.send bounds each request by bytes), projecting
   * each chunk once Kafka acknowledged it. Every event is checked first: nothing is
   * published that the projections would refuse (callers validate their input before, so a
   * refusal here is a programming error and nothing of the call is published).
   */
  async publishAll(events: readonly BillingEvent[]): Promise<void> {
    for (const e of events) this.assertPublishable(e);
    for (let i = 0; i < events.length; i += PUBLISH_CHUNK_EVENTS) {
      const chunk = events.slice(i, i + PUBLISH_CHUNK_EVENTS);
      await this.kafka.send(
        this.kafka.topics.billingEvents,
        chunk.map((e) => ({ key: e.subject, value: JSON.stringify(e) })),
      );
      await this.project(chunk);
    }
  }

  /**
   * Publishes one event without projecting it here, and resolves once the billing consumer
   * group has projected it and everything before it on its partition. For facts whose
   * projection decides between competing writers in topic order (the first workspace.created
   * of an id wins): the caller then reads the projection to learn whether it won.
   */
  async publishAndAwaitProjection(event: BillingEvent, timeoutMs: number): Promise<void> {
    this.assertPublishable(event);
    const topic = this.kafka.topics.billingEvents;
    const position = await this.kafka.sendLocated(topic, {
      key: event.subject,
      value: JSON.stringify(event),
    });
    await this.kafka.awaitCommitted(this.groupId, topic, position, timeoutMs);
  }

  /** Nothing is published that the projections would refuse (a refusal here is a programming error). */
  private assertPublishable(e: BillingEvent): void {
    // A type no module defined would be logged and projected by nobody: never publish one.
    const refused = this.knows(e)
      ? this.refusal(e)
      : `no module defines the type ${(e as BillingEventEnvelope).type}`;
    if (refused) throw new Error(`refusing to publish billing event ${e.type} ${e.id}: ${refused}`);
  }

  /**
   * Appends events to the event log and applies each to the projections of its type. An
   * event of a type this build does not know is only logged (decode counted it).
   */
  async project(events: readonly BillingEventEnvelope[]): Promise<void> {
    if (events.length === 0) return;
    await this.repository.append(events);
    // Known types only; `refusal` accepted each of them, so `data` is its declared payload.
    const known = events.filter((e) => this.knows(e)) as BillingEvent[];
    for (const p of this.projections) {
      const mine = known.filter((e) => p.handles.includes(e.type));
      if (mine.length > 0) await p.apply(mine);
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

  /** Which of these ids were ever published, in one query. */
  async existing(ids: readonly string[]): Promise<Set<string>> {
    return this.repository.existing(ids);
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
      eachBatch: async (payload) => {
        try {
          await this.handleBatch(payload);
        } catch (e) {
          // Stopping or rebalancing: nothing of the batch was committed, the next owner reads it.
          if (!(e instanceof BatchAbandoned)) throw e;
        }
      },
    });
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
        await this.project(events.map((e) => e.event));
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
      const refused = this.refusal(parsed.value);
      if (refused) return { reason: 'invalid-event', detail: refused };
      const event = parsed.value as BillingEventEnvelope;
      if (!this.knows(event)) {
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
          await this.project([event]);
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
