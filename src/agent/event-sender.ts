import { CompressionTypes, Kafka, logLevel, Message, Producer } from 'kafkajs';
import { gpumeterClient, GpumeterClient } from '../api-client/client';
import type { KafkaConnection } from '../platform/kafka/kafka-connection';
import { chunkByBytes, sendHalvingWhenTooLarge } from '../platform/chunk-by-bytes';
import { encodedSize, isTooLargeError } from '../platform/kafka/message-size';
import { UsageCloudEvent } from '../ingestion/usage-event/usage-event';
import { packUsageRecords } from '../ingestion/usage-event/usage-records';

/**
 * Bytes of events per Kafka request: well under the usage topic's max.message.bytes (2 MiB
 * when gpumeter created it, Kafka's default 1 MiB otherwise), whatever one partition gets.
 */
export const KAFKA_REQUEST_BYTES = 512 * 1024;
/** Bytes of events per POST: under the API's 1 MiB body limit with room for the brackets. */
export const HTTP_REQUEST_BYTES = 768 * 1024;
export const HTTP_MAX_EVENTS = 1000;

/** Where the agent delivers events. `send` resolves only when every event is acknowledged. */
export interface EventSender {
  /** Returns the indexes of events the receiver refused as invalid (they will never be accepted). */
  send(payloads: string[]): Promise<number[]>;
  close(): Promise<void>;
}

/**
 * Straight to usage.events.v1 (records of one source, keyed by it): idempotent producer,
 * acks = all; with `gzip` (KAFKA_COMPRESSION) each request's batch is compressed whole —
 * Kafka then stores ≈ 19 bytes an event instead of ≈ 456 (docs/capacity.md).
 */
export class KafkaEventSender implements EventSender {
  private producer?: Producer;
  private readonly kafka: Kafka;
  private readonly compression: CompressionTypes;

  constructor(
    connection: KafkaConnection,
    private readonly topic: string,
    clientId: string,
    compression: 'none' | 'gzip' = 'none',
  ) {
    this.compression = compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
    this.kafka = new Kafka({
      clientId,
      ...connection,
      logLevel: logLevel.NOTHING,
      connectionTimeout: 3000,
      requestTimeout: 10_000,
      // The agent's own loop retries with backoff and keeps spooling; fail fast here.
      retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 2000 },
    });
  }

  async send(payloads: string[]): Promise<number[]> {
    if (!this.producer) {
      const producer = this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
      });
      try {
        await producer.connect();
      } catch (e) {
        await producer.disconnect().catch(() => undefined);
        throw e;
      }
      this.producer = producer;
    }
    const timestamp = String(Date.now());
    // A record per workspace and source, keyed by the source (usage-records.ts).
    const { records, tooLarge } = packUsageRecords(
      payloads.map((json) => {
        return { source: (JSON.parse(json) as UsageCloudEvent).source, json };
      }),
    );
    const refused: number[] = [...tooLarge];
    const messages: Message[] = records.map((r) => ({ key: r.key, value: r.value, timestamp }));
    try {
      // Requests bounded by bytes; one the broker still refuses as too large is split again,
      // and a record that alone can never fit is refused (its events kept in refused.jsonl).
      for (const [from, to] of chunkByBytes(messages.map(encodedSize), KAFKA_REQUEST_BYTES))
        await sendHalvingWhenTooLarge(
          from,
          to,
          (a, b) =>
            this.producer!.send({
              topic: this.topic,
              acks: -1,
              compression: this.compression,
              messages: messages.slice(a, b),
            }).then(() => undefined),
          isTooLargeError,
          (i) => refused.push(...records[i].indexes),
        );
    } catch (e) {
      // Start over with a fresh producer after an outage.
      await this.producer.disconnect().catch(() => undefined);
      this.producer = undefined;
      throw e;
    }
    return refused;
  }

  async close(): Promise<void> {
    await this.producer?.disconnect().catch(() => undefined);
  }
}

export class HttpSendError extends Error {}
class RequestTooLarge extends Error {}

/** To POST /v1/events with an agent token, for hosts outside the cluster network. */
export class HttpEventSender implements EventSender {
  private readonly client: GpumeterClient;

  constructor(baseUrl: string, token: string) {
    this.client = gpumeterClient({ baseUrl, token });
  }

  async send(payloads: string[]): Promise<number[]> {
    const refused: number[] = [];
    const sizes = payloads.map((p) => Buffer.byteLength(p) + 1);
    // A 413 splits the request again; a single event refused as too large is refused for good.
    for (const [from, to] of chunkByBytes(sizes, HTTP_REQUEST_BYTES, HTTP_MAX_EVENTS))
      await sendHalvingWhenTooLarge(
        from,
        to,
        (a, b) => this.post(payloads, a, b, refused),
        (e) => e instanceof RequestTooLarge,
        (i) => refused.push(i),
      );
    return refused;
  }

  /** One POST of payloads[from, to); a 413 is thrown as RequestTooLarge for the caller to split. */
  private async post(payloads: string[], from: number, to: number, refused: number[]): Promise<void> {
    // The events are JSON already (what the spool holds): sent as they are, not serialized again.
    const batch = `[${payloads.slice(from, to).join(',')}]`;
    const {
      response: res,
      data,
      error,
    } = await this.client.POST('/v1/events', {
      body: batch as never,
      bodySerializer: (body: unknown) => body as string,
      headers: { 'content-type': 'application/cloudevents-batch+json' },
      parseAs: 'text',
      signal: AbortSignal.timeout(30_000),
    });
    const text = String(data ?? error ?? '');
    if (res.status === 413) throw new RequestTooLarge();
    if (res.status === 202 || res.status === 400) {
      const body = JSON.parse(text) as { rejected?: Array<{ index: number }> };
      if (res.status === 400 && !body.rejected) throw new HttpSendError(`HTTP 400: ${text.slice(0, 300)}`);
      for (const r of body.rejected ?? []) refused.push(from + r.index);
      return;
    }
    throw new HttpSendError(`HTTP ${res.status}: ${text.slice(0, 300)}`);
  }

  async close(): Promise<void> {}
}
