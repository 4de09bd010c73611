import { chunkByBytes } from '../../src/platform/chunk-by-bytes';
import { Kafka, logLevel, Message } from 'kafkajs';

/** A plain kafkajs client for tests: writes straight to topics, reads the DLQ. */
export function testKafka(env: Record<string, string>) {
  const kafka = new Kafka({
    clientId: 'gpumeter-test',
    brokers: env.KAFKA_BROKERS.split(','),
    logLevel: logLevel.NOTHING,
  });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  let connected = false;
  return {
    topic: (name: string) => `${env.KAFKA_TOPIC_PREFIX}${name}`,
    async produce(topic: string, messages: Message[]) {
      if (!connected) {
        await producer.connect();
        connected = true;
      }
      // At most 2,000 messages and 512 KiB a request (batch records are large).
      const sizes = messages.map((m) => Buffer.byteLength(m.value ?? '') + 64);
      for (const [from, to] of chunkByBytes(sizes, 512 * 1024, 2000))
        await producer.send({ topic, acks: -1, messages: messages.slice(from, to) });
    },
    /** Reads every message of a topic currently there (from the beginning). */
    async readAll(topic: string, expected: number, timeoutMs = 30_000) {
      const consumer = kafka.consumer({ groupId: `reader-${Date.now()}-${Math.random()}` });
      const seen: Array<{ key: string | null; value: string; headers: Record<string, string> }> = [];
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
          seen.push({
            key: message.key?.toString() ?? null,
            value: message.value?.toString() ?? '',
            headers,
          });
        },
      });
      const deadline = Date.now() + timeoutMs;
      while (seen.length < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      await consumer.disconnect();
      return seen;
    },
    /** How many messages a topic holds now (all partitions). */
    async messageCount(topic: string): Promise<number> {
      const admin = kafka.admin();
      await admin.connect();
      try {
        const offsets = await admin.fetchTopicOffsets(topic);
        return offsets.reduce((n, o) => n + Number(o.high) - Number(o.low), 0);
      } finally {
        await admin.disconnect();
      }
    },
    /** Whether a consumer group has committed everything the topic holds now. */
    async caughtUp(topic: string, groupId: string): Promise<boolean> {
      const admin = kafka.admin();
      await admin.connect();
      try {
        const ends = await admin.fetchTopicOffsets(topic);
        const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
        return ends.every((e) => {
          const c = committed?.partitions.find((p) => p.partition === e.partition);
          return c !== undefined && BigInt(c.offset === '-1' ? e.low : c.offset) >= BigInt(e.high);
        });
      } finally {
        await admin.disconnect();
      }
    },
    async close() {
      if (connected) await producer.disconnect();
    },
  };
}
