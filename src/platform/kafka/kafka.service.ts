import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { kafkaConnection } from './kafka-connection';
import {
  Admin,
  CompressionTypes,
  ConfigResourceTypes,
  Consumer,
  ConsumerConfig,
  Kafka,
  logLevel,
  Message,
  Partitioners,
  Producer,
} from 'kafkajs';
import { AppConfig } from '../../config/app-config';
import { Topics, topicsFor } from './topics';
import { chunkByBytes, sendHalvingWhenTooLarge } from '../chunk-by-bytes';
import { BATCH_OVERHEAD_BYTES, encodedSize, isTooLargeError } from './message-size';

const KAFKAJS_TO_NEST: Record<number, 'error' | 'warn' | 'log' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'log',
  [logLevel.DEBUG]: 'debug',
};

const MiB = 1024 * 1024;
/** Largest message billing.events.v1 takes (topic config `max.message.bytes`). */
export const BILLING_MAX_MESSAGE_BYTES = 8 * MiB;
/**
 * `max.message.bytes` of every topic gpumeter creates, set explicitly. The usage topic takes
 * anything POST /v1/events can accept (its body is ≤ 1 MiB); each dead-letter topic takes any
 * message of its source topic plus the error headers.
 */
export const TOPIC_MAX_MESSAGE_BYTES = {
  usageEvents: 2 * MiB,
  usageEventsDlq: 4 * MiB,
  billingEvents: BILLING_MAX_MESSAGE_BYTES,
  billingEventsDlq: 10 * MiB,
} as const;
/** Kafka's own default (`message.max.bytes`), assumed for a topic whose limit cannot be read. */
const BROKER_DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;
/** A request carries at most this share of the topic's limit, so estimates never cut it close. */
const CHUNK_SHARE = 0.75;

/** A message that can never fit the topic, however it is sent: refuse or dead-letter it. */
export class MessageTooLargeError extends Error {
  constructor(
    readonly topic: string,
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(`a message of ${bytes} bytes cannot fit ${topic} (max.message.bytes ${limit})`);
  }
}

/**
 * The one way into Kafka: a kafkajs client, one idempotent producer (acks = all), the admin
 * that creates topics, and consumers for the roles that need them.
 */
@Injectable()
export class KafkaService implements OnModuleDestroy {
  private readonly logger = new Logger('Kafka');
  readonly kafka: Kafka;
  readonly topics: Topics;
  private producer?: Producer;
  private producerConnecting?: Promise<Producer>;
  private readonly consumers: Consumer[] = [];
  private readonly partitionCounts = new Map<string, number>();
  private readonly partitioner = Partitioners.DefaultPartitioner();
  /** `max.message.bytes` per topic, read from the broker once. */
  private readonly limits = new Map<string, number>();

  /** KAFKA_COMPRESSION: a batch is compressed whole; request sizes stay bounded by the uncompressed bytes. */
  private readonly compression: CompressionTypes;

  constructor(private readonly config: AppConfig) {
    this.compression = config.KAFKA_COMPRESSION === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
    this.topics = topicsFor(config);
    this.kafka = new Kafka({
      clientId: config.KAFKA_CLIENT_ID,
      ...kafkaConnection(config),
      connectionTimeout: 3000,
      requestTimeout: 30000,
      retry: { initialRetryTime: 300, retries: 8, maxRetryTime: 10_000 },
      logLevel: logLevel.WARN,
      logCreator:
        () =>
        ({ level, log }) => {
          const { message, ...extra } = log;
          const method = KAFKAJS_TO_NEST[level] ?? 'log';
          this.logger[method](`${message} ${JSON.stringify(extra)}`);
        },
    });
  }

  /**
   * The shared producer. Idempotent (the broker drops a retried duplicate of a batch it
   * already wrote) and acks = all on every send (see `send`).
   */
  async getProducer(): Promise<Producer> {
    if (this.producer) return this.producer;
    this.producerConnecting ??= (async () => {
      const producer = this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
      });
      await producer.connect();
      this.producer = producer;
      return producer;
    })().finally(() => (this.producerConnecting = undefined));
    return this.producerConnecting;
  }

  /**
   * Resolves only when every message is acknowledged by all in-sync replicas. Messages go in
   * order, in requests bounded by encoded bytes (a share of the topic's `max.message.bytes`);
   * a request the broker still refuses as too large is split in two and sent again. A message
   * that can never fit throws MessageTooLargeError before anything is sent: check with
   * `fits` first to refuse or dead-letter it instead.
   */
  async send(topic: string, messages: Message[]): Promise<void> {
    if (messages.length === 0) return;
    const limit = await this.messageLimit(topic);
    const budget = Math.floor(limit * CHUNK_SHARE);
    const sizes = messages.map(encodedSize);
    const tooLarge = sizes.findIndex((n) => n + BATCH_OVERHEAD_BYTES > limit);
    if (tooLarge >= 0) throw new MessageTooLargeError(topic, sizes[tooLarge], limit);
    const producer = await this.getProducer();
    for (const [start, end] of chunkByBytes(sizes, budget - BATCH_OVERHEAD_BYTES))
      await sendHalvingWhenTooLarge(
        start,
        end,
        (from, to) =>
          producer
            .send({ topic, messages: messages.slice(from, to), acks: -1, compression: this.compression })
            .then(() => undefined),
        (e) => {
          if (isTooLargeError(e))
            this.logger.warn(`${topic} refused messages as too large: sending them in halves`);
          return isTooLargeError(e);
        },
        (i) => {
          throw new MessageTooLargeError(topic, sizes[i], limit);
        },
      );
  }

  /**
   * Sends one message and says where Kafka put it: the partition's order is what decides
   * between two writers of the same key (see awaitCommitted).
   */
  async sendLocated(topic: string, message: Message): Promise<{ partition: number; offset: bigint }> {
    if (!(await this.fits(topic, message)))
      throw new MessageTooLargeError(topic, encodedSize(message), await this.messageLimit(topic));
    const producer = await this.getProducer();
    const [meta] = await producer.send({
      topic,
      messages: [message],
      acks: -1,
      compression: this.compression,
    });
    return { partition: meta.partition, offset: BigInt(meta.baseOffset ?? '-1') };
  }

  /**
   * Waits until `groupId` has committed past `offset` on the partition: its consumer has
   * processed that message and everything before it. Throws after `timeoutMs`.
   */
  async awaitCommitted(
    groupId: string,
    topic: string,
    position: { partition: number; offset: bigint },
    timeoutMs: number,
  ): Promise<void> {
    await this.untilCommitted(
      groupId,
      topic,
      async () => new Map([[position.partition, position.offset + 1n]]),
      {
        timeoutMs,
        pollMs: 25,
        what: `pass ${topic}[${position.partition}]@${position.offset}`,
      },
    );
  }

  /**
   * Polls the group's committed offsets until each target partition's commit reaches its
   * target offset (`targets` is read once, with the admin client), or throws after `timeoutMs`.
   */
  private async untilCommitted(
    groupId: string,
    topic: string,
    targets: (admin: Admin) => Promise<Map<number, bigint>>,
    o: { timeoutMs: number; pollMs: number; what: string },
  ): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const wanted = await targets(admin);
      const deadline = Date.now() + o.timeoutMs;
      for (;;) {
        const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
        const at = new Map(committed.partitions.map((p) => [p.partition, BigInt(p.offset)]));
        const behind = [...wanted].filter(([partition, offset]) => (at.get(partition) ?? -1n) < offset);
        if (behind.length === 0) return;
        if (Date.now() > deadline)
          throw new Error(
            `consumer group ${groupId} did not ${o.what} within ${o.timeoutMs} ms ` +
              `(partitions behind: ${behind.map(([p]) => p).join(', ')})`,
          );
        await new Promise((r) => setTimeout(r, o.pollMs));
      }
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  /** Whether a message can ever be written to the topic (under its `max.message.bytes`). */
  async fits(topic: string, message: Message): Promise<boolean> {
    return encodedSize(message) + BATCH_OVERHEAD_BYTES <= (await this.messageLimit(topic));
  }

  /** The topic's `max.message.bytes` as the broker has it (read once; Kafka's default when unreadable). */
  async messageLimit(topic: string): Promise<number> {
    const known = this.limits.get(topic);
    if (known !== undefined) return known;
    const admin = this.kafka.admin();
    let limit = BROKER_DEFAULT_MAX_MESSAGE_BYTES;
    try {
      await admin.connect();
      const described = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['max.message.bytes'] }],
      });
      const entry = described.resources[0]?.configEntries.find((c) => c.configName === 'max.message.bytes');
      const value = Number(entry?.configValue);
      if (Number.isSafeInteger(value) && value > 0) limit = value;
      this.limits.set(topic, limit);
    } catch (e) {
      this.logger.warn(
        `could not read max.message.bytes of ${topic} (assuming ${limit}): ${(e as Error).message}`,
      );
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    return limit;
  }

  /**
   * A consumer as every gpumeter role wants it: the configured session timeout, no topic
   * auto-creation, and retries that never give up (a metering consumer must not stop by
   * itself; see supervise-consumer.ts for the crashes kafkajs does not restart).
   */
  createConsumer(config: Pick<ConsumerConfig, 'groupId'> & Partial<ConsumerConfig>): Consumer {
    const consumer = this.kafka.consumer({
      sessionTimeout: this.config.KAFKA_SESSION_TIMEOUT_MS,
      heartbeatInterval: Math.floor(this.config.KAFKA_SESSION_TIMEOUT_MS / 10),
      allowAutoTopicCreation: false,
      retry: {
        retries: Number.MAX_SAFE_INTEGER,
        initialRetryTime: 300,
        maxRetryTime: 10_000,
        restartOnFailure: async () => true,
      },
      ...config,
    });
    this.consumers.push(consumer);
    return consumer;
  }

  /** Creates the contract's topics when missing (idempotent; safe on every start). */
  async ensureTopics(): Promise<void> {
    const admin: Admin = this.kafka.admin();
    await admin.connect();
    try {
      const existing = new Set(await admin.listTopics());
      const retention = String(this.config.KAFKA_RETENTION_MS);
      const wanted = [
        {
          topic: this.topics.usageEvents,
          numPartitions: this.config.KAFKA_USAGE_PARTITIONS,
          maxMessageBytes: TOPIC_MAX_MESSAGE_BYTES.usageEvents,
        },
        {
          topic: this.topics.usageEventsDlq,
          numPartitions: 1,
          maxMessageBytes: TOPIC_MAX_MESSAGE_BYTES.usageEventsDlq,
        },
        // An invoice document with a large breakdown can exceed the default 1 MB message.
        {
          topic: this.topics.billingEvents,
          numPartitions: 3,
          maxMessageBytes: TOPIC_MAX_MESSAGE_BYTES.billingEvents,
        },
        {
          topic: this.topics.billingEventsDlq,
          numPartitions: 1,
          maxMessageBytes: TOPIC_MAX_MESSAGE_BYTES.billingEventsDlq,
        },
      ].filter((t) => !existing.has(t.topic));
      if (wanted.length > 0) {
        await admin.createTopics({
          waitForLeaders: true,
          topics: wanted.map(({ maxMessageBytes, ...t }) => ({
            ...t,
            replicationFactor: -1,
            configEntries: [
              { name: 'retention.ms', value: retention },
              { name: 'retention.bytes', value: '-1' },
              { name: 'cleanup.policy', value: 'delete' },
              { name: 'max.message.bytes', value: String(maxMessageBytes) },
            ],
          })),
        });
        this.logger.log(`created topics ${wanted.map((t) => t.topic).join(', ')}`);
      }
    } finally {
      await admin.disconnect();
    }
  }

  /**
   * Waits until `groupId` has committed every message `topic` held when this was called
   * (its consumers have processed everything published so far). Throws after `timeoutMs`.
   */
  async awaitGroupCaughtUp(groupId: string, topic: string, timeoutMs: number): Promise<void> {
    await this.untilCommitted(
      groupId,
      topic,
      async (admin) =>
        new Map(
          (await admin.fetchTopicOffsets(topic))
            .filter((o) => BigInt(o.high) > 0n)
            .map((o) => [o.partition, BigInt(o.high)]),
        ),
      { timeoutMs, pollMs: 200, what: `catch up with ${topic}` },
    );
  }

  /**
   * Where a topic stands: messages it holds (high − low watermark, summed over partitions),
   * its end offsets, and, for a consumer group, how far the group's commits are behind the end.
   */
  async topicPosition(
    topic: string,
    groupId?: string,
  ): Promise<{ held: bigint; end: bigint; committed: bigint | null; lag: bigint | null }> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchTopicOffsets(topic);
      const end = offsets.reduce((a, o) => a + BigInt(o.high), 0n);
      const held = offsets.reduce((a, o) => a + BigInt(o.high) - BigInt(o.low), 0n);
      if (groupId === undefined) return { held, end, committed: null, lag: null };
      const [group] = await admin.fetchOffsets({ groupId, topics: [topic] });
      const at = new Map(group.partitions.map((p) => [p.partition, BigInt(p.offset)]));
      let committed = 0n;
      let lag = 0n;
      for (const o of offsets) {
        // -1: nothing committed on the partition yet; the group is behind by all it holds.
        const c = at.get(o.partition) ?? -1n;
        const from = c < 0n ? BigInt(o.low) : c;
        committed += from;
        lag += BigInt(o.high) - from;
      }
      return { held, end, committed, lag };
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  /**
   * Partitions of `topic` where `groupId` has not yet committed past every record written
   * before `timestampMs` (by record timestamp: the first record at or after it, by Kafka's
   * time index). Empty when the group has read all of them.
   */
  async partitionsNotReadTo(
    groupId: string,
    topic: string,
    timestampMs: number,
  ): Promise<Array<{ partition: number; committed: bigint; needed: bigint }>> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const [offsets, low, [group]] = await Promise.all([
        admin.fetchTopicOffsetsByTimestamp(topic, timestampMs),
        admin.fetchTopicOffsets(topic),
        admin.fetchOffsets({ groupId, topics: [topic] }),
      ]);
      const lowOf = new Map(low.map((o) => [o.partition, BigInt(o.low)]));
      const at = new Map(group.partitions.map((p) => [p.partition, BigInt(p.offset)]));
      return offsets.flatMap((o) => {
        const needed = BigInt(o.offset);
        // -1: nothing committed yet; the group then stands at the log's start.
        const c = at.get(o.partition) ?? -1n;
        const committed = c < 0n ? (lowOf.get(o.partition) ?? 0n) : c;
        return committed < needed ? [{ partition: o.partition, committed, needed }] : [];
      });
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  /** Deletes consumer groups that are done (e.g. a replay's); groups with members are refused by Kafka. */
  async deleteGroups(groupIds: string[]): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      await admin.deleteGroups(groupIds);
    } catch (e) {
      this.logger.warn(`could not delete consumer groups ${groupIds.join(', ')}: ${(e as Error).message}`);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  /**
   * The partition a keyed message goes to (the producer's default partitioner: murmur2 of the
   * key modulo the topic's partition count), so that work can be owned by partition.
   */
  async partitionFor(topic: string, key: string): Promise<number> {
    return (await this.partitionerOf(topic))(key);
  }

  /**
   * A synchronous `partitionFor` of one topic (its partition count read once): for hot paths
   * that check, per event, which partition its key belongs to.
   */
  async partitionerOf(topic: string): Promise<(key: string) => number> {
    let count = this.partitionCounts.get(topic);
    if (count === undefined) {
      const admin = this.kafka.admin();
      await admin.connect();
      try {
        const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
        count = topics[0].partitions.length;
        this.partitionCounts.set(topic, count);
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    }
    const partitionMetadata = Array.from({ length: count }, (_, i) => ({
      partitionId: i,
      partitionErrorCode: 0,
      leader: 0,
      replicas: [0],
      isr: [0],
    }));
    return (key) => this.partitioner({ topic, partitionMetadata, message: { key, value: null } });
  }

  /** Readiness: a metadata round trip to the cluster. */
  async isReachable(): Promise<boolean> {
    const admin = this.kafka.admin({ retry: { retries: 0 } });
    try {
      await admin.connect();
      await admin.describeCluster();
      return true;
    } catch {
      return false;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  async onModuleDestroy(): Promise<void> {
    for (const c of this.consumers) await c.disconnect().catch(() => undefined);
    if (this.producer) await this.producer.disconnect().catch(() => undefined);
  }
}
