import { Injectable, Logger } from '@nestjs/common';
import { KafkaConfig } from './kafka.config';
import { Admin, Partitioners } from 'kafkajs';
import { KafkaClient } from './kafka-client';
import { Topics } from './topics';

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

/**
 * What gpumeter asks of Kafka besides reading and writing: the contract's topics created,
 * where topics and consumer groups stand (lag, catch-up, commits past an offset), which
 * partition a key lives on, and whether the cluster answers.
 */
@Injectable()
export class KafkaAdmin {
  private readonly logger = new Logger('Kafka');
  private readonly partitionCounts = new Map<string, number>();
  private readonly partitioner = Partitioners.DefaultPartitioner();

  /** The contract's topic names (KafkaClient's). */
  readonly topics: Topics;

  constructor(
    private readonly client: KafkaClient,
    private readonly config: KafkaConfig,
  ) {
    this.topics = client.topics;
  }

  /** Creates the contract's topics when missing (idempotent; safe on every start). */
  async ensureTopics(): Promise<void> {
    const topics = this.client.topics;
    const wanted = [
      {
        topic: topics.usageEvents,
        numPartitions: this.config.KAFKA_USAGE_PARTITIONS,
        max: TOPIC_MAX_MESSAGE_BYTES.usageEvents,
      },
      { topic: topics.usageEventsDlq, numPartitions: 1, max: TOPIC_MAX_MESSAGE_BYTES.usageEventsDlq },
      // An invoice document with a large breakdown can exceed the default 1 MB message.
      { topic: topics.billingEvents, numPartitions: 3, max: TOPIC_MAX_MESSAGE_BYTES.billingEvents },
      { topic: topics.billingEventsDlq, numPartitions: 1, max: TOPIC_MAX_MESSAGE_BYTES.billingEventsDlq },
    ];
    await this.client.withAdmin(async (admin) => {
      const existing = new Set(await admin.listTopics());
      const missing = wanted.filter((t) => !existing.has(t.topic));
      if (missing.length === 0) return;
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map(({ topic, numPartitions, max }) => ({
          topic,
          numPartitions,
          replicationFactor: -1,
          configEntries: [
            { name: 'retention.ms', value: String(this.config.KAFKA_RETENTION_MS) },
            { name: 'retention.bytes', value: '-1' },
            { name: 'cleanup.policy', value: 'delete' },
            { name: 'max.message.bytes', value: String(max) },
          ],
        })),
      });
      this.logger.log(`created topics ${missing.map((t) => t.topic).join(', ')}`);
    });
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
   * Polls the group's committed offsets until each target partition's commit reaches its
   * target offset (`targets` is read once), or throws after `timeoutMs`.
   */
  private async untilCommitted(
    groupId: string,
    topic: string,
    targets: (admin: Admin) => Promise<Map<number, bigint>>,
    o: { timeoutMs: number; pollMs: number; what: string },
  ): Promise<void> {
    await this.client.withAdmin(async (admin) => {
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
    });
  }

  /**
   * Where a topic stands: messages it holds (high − low watermark, summed over partitions),
   * its end offsets, and, for a consumer group, how far the group's commits are behind the end.
   */
  async topicPosition(
    topic: string,
    groupId?: string,
  ): Promise<{ held: bigint; end: bigint; committed: bigint | null; lag: bigint | null }> {
    return this.client.withAdmin(async (admin) => {
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
    });
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
    return this.client.withAdmin(async (admin) => {
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
    });
  }

  /** Deletes consumer groups that are done (e.g. a replay's); groups with members are refused by Kafka. */
  async deleteGroups(groupIds: string[]): Promise<void> {
    await this.client
      .withAdmin((admin) => admin.deleteGroups(groupIds))
      .catch((e: Error) =>
        this.logger.warn(`could not delete consumer groups ${groupIds.join(', ')}: ${e.message}`),
      );
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
      count = await this.client.withAdmin(
        async (admin) => (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0].partitions.length,
      );
      this.partitionCounts.set(topic, count);
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
    return this.client
      .withAdmin(
        async (admin) => {
          await admin.describeCluster();
          return true;
        },
        { retries: 0 },
      )
      .catch(() => false);
  }
}
