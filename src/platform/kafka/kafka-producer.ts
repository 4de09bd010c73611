import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { KafkaConfig } from './kafka.config';
import { CompressionTypes, ConfigResourceTypes, Message, Producer } from 'kafkajs';
import { chunkByBytes, sendHalvingWhenTooLarge } from '../chunk-by-bytes';
import { KafkaClient } from './kafka-client';
import { Topics } from './topics';
import { BATCH_OVERHEAD_BYTES, encodedSize, isTooLargeError } from './message-size';

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
 * The one way to write to Kafka: one idempotent producer (the broker drops a retried duplicate
 * of a batch it already wrote), acks = all on every send, requests bounded by bytes.
 */
@Injectable()
export class KafkaProducer implements OnModuleDestroy {
  private readonly logger = new Logger('Kafka');
  private producer?: Producer;
  private producerConnecting?: Promise<Producer>;
  /** `max.message.bytes` per topic, read from the broker once. */
  private readonly limits = new Map<string, number>();
  /** KAFKA_COMPRESSION: a batch is compressed whole; request sizes stay bounded by the uncompressed bytes. */
  private readonly compression: CompressionTypes;

  /** The contract's topic names (KafkaClient's). */
  readonly topics: Topics;

  constructor(
    private readonly client: KafkaClient,
    config: KafkaConfig,
  ) {
    this.topics = client.topics;
    this.compression = config.KAFKA_COMPRESSION === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
  }

  private async connected(): Promise<Producer> {
    if (this.producer) return this.producer;
    this.producerConnecting ??= (async () => {
      const producer = this.client.kafka.producer({
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
    const producer = await this.connected();
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
   * between two writers of the same key (see KafkaAdmin.awaitCommitted).
   */
  async sendLocated(topic: string, message: Message): Promise<{ partition: number; offset: bigint }> {
    if (!(await this.fits(topic, message)))
      throw new MessageTooLargeError(topic, encodedSize(message), await this.messageLimit(topic));
    const producer = await this.connected();
    const [meta] = await producer.send({
      topic,
      messages: [message],
      acks: -1,
      compression: this.compression,
    });
    return { partition: meta.partition, offset: BigInt(meta.baseOffset ?? '-1') };
  }

  /** Whether a message can ever be written to the topic (under its `max.message.bytes`). */
  async fits(topic: string, message: Message): Promise<boolean> {
    return encodedSize(message) + BATCH_OVERHEAD_BYTES <= (await this.messageLimit(topic));
  }

  /** The topic's `max.message.bytes` as the broker has it (read once; Kafka's default when unreadable). */
  async messageLimit(topic: string): Promise<number> {
    const known = this.limits.get(topic);
    if (known !== undefined) return known;
    try {
      const limit = await this.client.withAdmin(async (admin) => {
        const described = await admin.describeConfigs({
          includeSynonyms: false,
          resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['max.message.bytes'] }],
        });
        const entry = described.resources[0]?.configEntries.find((c) => c.configName === 'max.message.bytes');
        const value = Number(entry?.configValue);
        return Number.isSafeInteger(value) && value > 0 ? value : BROKER_DEFAULT_MAX_MESSAGE_BYTES;
      });
      this.limits.set(topic, limit);
      return limit;
    } catch (e) {
      this.logger.warn(
        `could not read max.message.bytes of ${topic} (assuming ${BROKER_DEFAULT_MAX_MESSAGE_BYTES}): ${(e as Error).message}`,
      );
      return BROKER_DEFAULT_MAX_MESSAGE_BYTES;
    }
  }

  async onModuleDestroy(): Promise<void> {
    if (this.producer) await this.producer.disconnect().catch(() => undefined);
  }
}
