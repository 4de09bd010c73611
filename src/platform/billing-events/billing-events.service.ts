import { Injectable, OnModuleInit } from '@nestjs/common';
import { KafkaConfig } from '../kafka/kafka.config';
import { DiscoveryService } from '@nestjs/core';
import { KafkaAdmin } from '../kafka/kafka-admin';
import { KafkaProducer } from '../kafka/kafka-producer';
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

/** Events projected per round when publishing many (Kafka requests are bounded by bytes in send). */
const PUBLISH_CHUNK_EVENTS = 2000;

/**
 * Publishes billing domain events (Kafka first: it is the system of record) and keeps the
 * ClickHouse projections of them up to date. A publisher applies its own event right after
 * Kafka acknowledged it, so the API reads its own writes; the consumer (BillingEventsConsumer)
 * applies every event again from the topic (and a replay does from the beginning), which
 * changes nothing because projections are idempotent.
 */
@Injectable()
export class BillingEventsService implements OnModuleInit {
  private readonly projections: BillingEventProjection[] = [];
  private readonly schemas = new BillingEventSchemas();

  constructor(
    private readonly config: KafkaConfig,
    private readonly kafka: KafkaProducer,
    private readonly admin: KafkaAdmin,
    private readonly repository: BillingEventsRepository,
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
  knows(e: BillingEventEnvelope): e is BillingEventEnvelope<BillingEventType> {
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
   * Publishes events in order (KafkaProducer.send bounds each request by bytes), projecting
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
    await this.admin.awaitCommitted(this.groupId, topic, position, timeoutMs);
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

  /** Whether an event with this id was ever published (for events with deterministic ids). */
  async exists(id: string): Promise<boolean> {
    return this.repository.exists(id);
  }

  /** Which of these ids were ever published, in one query. */
  async existing(ids: readonly string[]): Promise<Set<string>> {
    return this.repository.existing(ids);
  }

  private get groupId(): string {
    return billingConsumerGroup(this.config);
  }
}

/** The billing consumer group: the projections' (KAFKA_CONSUMER_GROUP + `-billing`). */
export function billingConsumerGroup(config: KafkaConfig): string {
  return `${config.KAFKA_CONSUMER_GROUP}-billing`;
}
