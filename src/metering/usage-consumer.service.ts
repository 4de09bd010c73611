import { Clock } from '../platform/clock';
import { UsageStore } from './usage-store';
import { IngestionConfig } from '../ingestion/ingestion.config';
import { KafkaConfig } from '../platform/kafka/kafka.config';
import { Injectable, Logger } from '@nestjs/common';
import { FaultInjection } from '../platform/fault-injection';
import { Consumer, EachBatchPayload, KafkaMessage, Message } from 'kafkajs';
import { packUsageRecords } from '../ingestion/usage-event/usage-records';
import { sendDeadLetters } from '../platform/kafka/dead-letter';
import { TimeWindow } from '../ingestion/usage-event/usage-event.validator';
import { KafkaAdmin } from '../platform/kafka/kafka-admin';
import { KafkaClient } from '../platform/kafka/kafka-client';
import { KafkaProducer } from '../platform/kafka/kafka-producer';
import { runConsumer } from '../platform/kafka/run-consumer';
import { MetricsService } from '../platform/metrics/metrics.service';
import { retryUntilDone } from '../platform/kafka/batch-retry';
import { DAY_MS } from '../common/time';
import { monthNumber } from './price-split-hours';
import {
  Decoded,
  MisroutedEvent,
  setAsideRetired,
  UsageDeadLetter,
  UsageRecordDecoder,
} from './usage-record-decoder';

export type { UsageDeadLetter } from './usage-record-decoder';
import { UsageRetirementsRepository } from './usage-retirements.repository';

/**
 * Reads usage.events.v1 and stores each event once in ClickHouse.
 *
 * Per batch: validate → dead-letter the invalid (acknowledged by Kafka) → drop copies of
 * keys seen earlier in the batch → ask ClickHouse which keys it already holds → insert the
 * rest → commit the offsets. Batches of several partitions that arrive together are stored
 * in one round (StoreCoalescer); rounds never overlap. Offsets move only after ClickHouse confirmed the insert, so a
 * crash anywhere re-delivers the batch, and the lookup makes the re-delivery change
 * nothing. When ClickHouse is down the batch is retried with backoff, heartbeating, without
 * advancing offsets, until it succeeds or the consumer is stopped.
 */
@Injectable()
export class UsageConsumerService {
  private readonly logger = new Logger(UsageConsumerService.name);
  private consumer?: Consumer;
  private readonly window: TimeWindow;

  constructor(
    private readonly events: IngestionConfig,
    private readonly kafkaConfig: KafkaConfig,
    private readonly client: KafkaClient,
    private readonly kafka: KafkaProducer,
    private readonly admin: KafkaAdmin,
    private readonly store: UsageStore,
    private readonly metrics: MetricsService,
    private readonly faults: FaultInjection,
    private readonly retirements: UsageRetirementsRepository,
    private readonly clock: Clock,
  ) {
    this.window = {
      maxFutureMs: events.EVENT_MAX_FUTURE_SECONDS * 1000,
      maxAgeMs: events.EVENT_MAX_AGE_DAYS * DAY_MS,
    };
    this.decoder = new UsageRecordDecoder(this.window);
  }

  private stopping = false;
  /** false during a replay: invalid messages already have their dead-letter copy. */
  private deadLetter = true;
  /** Invalid messages a replay passed over (they are on the DLQ from the first time). */
  skippedInvalid = 0;

  /** Decodes records (usage-record-decoder.ts); rerouting once the partitioner is known. */
  private decoder: UsageRecordDecoder;
  /**
   * false during a replay: it runs in one process, whose store rounds are serialized, so an
   * event read outside its source's partition is deduplicated exactly where it is.
   */
  private reroute = true;

  /** Starts consuming; `deadLetter: false` is for replays (see `gpumeter replay`). */
  async start(options: { deadLetter?: boolean } = {}): Promise<void> {
    if (options.deadLetter !== undefined) {
      this.deadLetter = options.deadLetter;
      this.reroute = options.deadLetter;
    }
    const topic = this.kafka.topics.usageEvents;
    const partitioner = await this.admin.partitionerOf(topic);
    // murmur2 once per source, not once per event (a fleet has thousands of sources, not millions).
    const known = new Map<string, number>();
    const partitionOfSource = (source: string) => {
      let p = known.get(source);
      if (p === undefined) {
        if (known.size > 100_000) known.clear();
        known.set(source, (p = partitioner(source)));
      }
      return p;
    };
    this.decoder = new UsageRecordDecoder(this.window, this.reroute ? partitionOfSource : undefined);
    const { consumer, started } = runConsumer(this.client, {
      groupId: this.kafkaConfig.KAFKA_CONSUMER_GROUP,
      topic,
      fromBeginning: true,
      fetch: {
        maxBytesPerPartition: 8 * 1024 * 1024,
        maxBytes: 32 * 1024 * 1024,
        minBytes: 64 * 1024,
        maxWaitTimeInMs: 250,
      },
      // Partitions are processed concurrently and stored together (StoreCoalescer).
      partitionsConsumedConcurrently: this.kafkaConfig.KAFKA_USAGE_PARTITIONS,
      eachBatch: (payload) => this.handleBatch(payload),
      onAssigned: () => {
        this.generation++;
        this.chains.clear();
      },
      restart: () => this.start(),
      isStopping: () => this.stopping,
      logger: this.logger,
    });
    this.consumer = consumer;
    await started;
    this.logger.log(`consuming ${topic} as group ${this.kafkaConfig.KAFKA_CONSUMER_GROUP}`);
  }

  /** Stops fetching; a batch in flight is finished or abandoned uncommitted. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (!this.consumer) return;
    await this.consumer.disconnect();
    this.consumer = undefined;
  }

  /**
   * Per partition, the stores and commits of its slices in order. eachBatch hands a slice to
   * the store round and returns without waiting for ClickHouse, so kafkajs fetches and this
   * process decodes the next records while the insert is in flight; the slice's offset is
   * committed only once its round stored it, and never before the slices ahead of it on the
   * partition. A new group generation (a rebalance) starts the chains afresh: the partitions
   * are read again from their committed offsets, and a commit of the old generation is dropped.
   */
  private readonly chains = new Map<number, Promise<void>>();
  private generation = 0;
  private eventsInFlight = 0;

  private async handleBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, heartbeat } = payload;
    if (batch.messages.length === 0) return;
    const maxEvents = this.store.maxEvents;
    // Large fetches are stored in slices of about maxEvents events, each committed on its own.
    for (let start = 0; start < batch.messages.length;) {
      const { slice, end } = this.decoder.decodeSlice(
        batch.messages,
        start,
        batch.partition,
        this.clock.now(),
        maxEvents,
      );
      if (slice.aged.length > 0)
        await this.untilDone(payload, 'checking retired months', () => this.setAsideRetired(slice));
      const { events, deadLetters, misrouted } = slice;
      if (this.deadLetter)
        await this.untilDone(payload, 'dead-lettering', () => this.sendDeadLetters(deadLetters, batch.topic));
      else this.skippedInvalid += deadLetters.length;
      await this.untilDone(payload, 're-routing', () => this.sendToTheirPartitions(misrouted, batch));
      const last = batch.messages[end - 1].offset;
      const stored = this.untilDone(payload, 'storing', () => this.store.submit(events));
      stored.catch(() => undefined); // awaited in the chain below; abandoned on stop or rebalance
      const generation = this.generation;
      this.eventsInFlight += events.length;
      const chain = (this.chains.get(batch.partition) ?? Promise.resolve())
        .then(() => stored)
        .then(async () => {
          if (events.length > 0) this.faults.afterInsert();
          if (generation !== this.generation) return; // read again from the committed offset
          await this.untilDone(payload, 'committing', () =>
            this.consumer!.commitOffsets([
              { topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() },
            ]),
          );
          const lag = BigInt(batch.highWatermark) - BigInt(last) - 1n;
          this.metrics.consumerLag.set(
            { topic: batch.topic, partition: String(batch.partition) },
            Number(lag),
          );
        })
        .finally(() => (this.eventsInFlight -= events.length));
      chain.catch(() => undefined);
      this.chains.set(batch.partition, chain);
      // The fetch position moves on now; what is committed still follows storage.
      payload.resolveOffset(last);
      await heartbeat();
      // Bounded: at most about two rounds of events wait for ClickHouse at once.
      if (this.eventsInFlight > 2 * maxEvents) await chain;
      start = end;
    }
  }

  /** Sets aside the slice's events of retired months (usage-record-decoder.ts: setAsideRetired). */
  private async setAsideRetired(slice: Decoded): Promise<void> {
    const months = [...new Set(slice.aged.map((a) => monthNumber(a.event.ended_at_ms)))];
    setAsideRetired(slice, new Set((await this.retirements.retired(months)).keys()));
  }

  /** A slice of records decoded (usage-record-decoder.ts), at the Clock's time unless given. */
  decode(messages: KafkaMessage[], partition: number, nowMs = this.clock.now()): Decoded {
    return this.decoder.decode(messages, partition, nowMs);
  }

  /**
   * Events read outside their source's partition (records keyed by workspace, as producers
   * before issue 12 wrote them, or by hand) are produced again keyed by their source, with
   * their original timestamp, and stored from there: so every copy of a (source, id) is
   * judged by the one consumer of its source's partition, whichever consumer reads the copy.
   * Acknowledged by Kafka before the batch is committed, so none is lost.
   */
  private async sendToTheirPartitions(misrouted: MisroutedEvent[], batch: { topic: string }): Promise<void> {
    if (misrouted.length === 0) return;
    const byRecord = new Map<KafkaMessage, MisroutedEvent[]>();
    for (const m of misrouted) byRecord.set(m.message, [...(byRecord.get(m.message) ?? []), m]);
    const messages: Message[] = [];
    for (const [original, events] of byRecord) {
      const { records, tooLarge } = packUsageRecords(events);
      for (const i of tooLarge)
        records.push({ key: events[i].source, value: `[${events[i].json}]`, indexes: [i] });
      for (const r of records)
        messages.push({
          key: r.key,
          value: r.value,
          timestamp: original.timestamp,
          headers: { 'rerouted-from': `${events[0].partition}:${original.offset}` },
        });
    }
    await this.kafka.send(batch.topic, messages);
    this.metrics.consumerRerouted.inc(misrouted.length);
  }

  private async sendDeadLetters(deadLetters: UsageDeadLetter[], topic: string): Promise<void> {
    if (deadLetters.length === 0) return;
    await sendDeadLetters(this.kafka, this.kafka.topics.usageEventsDlq, topic, deadLetters);
    for (const d of deadLetters) this.metrics.dlqMessages.inc({ reason: d.reason });
    this.logger.warn(
      `dead-lettered ${deadLetters.length} message(s): ${deadLetters[0].reason}: ${deadLetters[0].detail}`,
    );
  }

  private untilDone(payload: EachBatchPayload, what: string, step: () => Promise<unknown>): Promise<void> {
    return retryUntilDone(payload, what, step, this.logger, () => this.metrics.storeFailures.inc());
  }
}
