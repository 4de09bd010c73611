import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import {
  Admin,
  CompressionTypes,
  Consumer,
  ConsumerConfig,
  Kafka,
  logLevel,
  Message,
  Producer,
} from 'kafkajs';
import { AppConfig } from '../../config/app-config';
import { Topics, topicsFor } from './topics';

const KAFKAJS_TO_NEST: Record<number, 'error' | 'warn' | 'log' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'log',
  [logLevel.DEBUG]: 'debug',
};

/** Largest message billing.events.v1 takes (topic config `max.message.bytes`). */
export const BILLING_MAX_MESSAGE_BYTES = 8 * 1024 * 1024;

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

  constructor(private readonly config: AppConfig) {
    this.topics = topicsFor(config);
    this.kafka = new Kafka({
      clientId: config.KAFKA_CLIENT_ID,
      brokers: config.KAFKA_BROKERS,
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

  /** Resolves only when every message is acknowledged by all in-sync replicas. */
  async send(topic: string, messages: Message[]): Promise<void> {
    if (messages.length === 0) return;
    const producer = await this.getProducer();
    await producer.send({ topic, messages, acks: -1, compression: CompressionTypes.None });
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
        { topic: this.topics.usageEvents, numPartitions: this.config.KAFKA_USAGE_PARTITIONS },
        { topic: this.topics.usageEventsDlq, numPartitions: 1 },
        // An invoice document with a large breakdown can exceed the default 1 MB message.
        { topic: this.topics.billingEvents, numPartitions: 3, maxMessageBytes: BILLING_MAX_MESSAGE_BYTES },
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
              ...(maxMessageBytes ? [{ name: 'max.message.bytes', value: String(maxMessageBytes) }] : []),
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
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const targets = (await admin.fetchTopicOffsets(topic)).map((o) => ({
        partition: o.partition,
        high: BigInt(o.high),
      }));
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
        const at = new Map(committed.partitions.map((p) => [p.partition, BigInt(p.offset)]));
        const behind = targets.filter((t) => t.high > 0n && (at.get(t.partition) ?? -1n) < t.high);
        if (behind.length === 0) return;
        if (Date.now() > deadline)
          throw new Error(
            `consumer group ${groupId} did not catch up with ${topic} within ${timeoutMs} ms ` +
              `(partitions behind: ${behind.map((b) => b.partition).join(', ')})`,
          );
        await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
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
