import { Kafka, logLevel, Producer } from 'kafkajs';

/** Where the agent delivers events. `send` resolves only when every event is acknowledged. */
export interface EventSender {
  /** Returns the indexes of events the receiver refused as invalid (they will never be accepted). */
  send(payloads: string[], keys: string[]): Promise<number[]>;
  close(): Promise<void>;
}

/** Straight to usage.events.v1: idempotent producer, acks = all. */
export class KafkaEventSender implements EventSender {
  private producer?: Producer;
  private readonly kafka: Kafka;

  constructor(
    brokers: string[],
    private readonly topic: string,
    clientId: string,
  ) {
    this.kafka = new Kafka({
      clientId,
      brokers,
      logLevel: logLevel.NOTHING,
      connectionTimeout: 3000,
      requestTimeout: 10_000,
      // The agent's own loop retries with backoff and keeps spooling; fail fast here.
      retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 2000 },
    });
  }

  async send(payloads: string[], keys: string[]): Promise<number[]> {
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
    try {
      await this.producer.send({
        topic: this.topic,
        acks: -1,
        messages: payloads.map((value, i) => ({ key: keys[i], value, timestamp })),
      });
    } catch (e) {
      // Start over with a fresh producer after an outage.
      await this.producer.disconnect().catch(() => undefined);
      this.producer = undefined;
      throw e;
    }
    return [];
  }

  async close(): Promise<void> {
    await this.producer?.disconnect().catch(() => undefined);
  }
}

export class HttpSendError extends Error {}

/** To POST /v1/events with an agent token, for hosts outside the cluster network. */
export class HttpEventSender implements EventSender {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  async send(payloads: string[]): Promise<number[]> {
    const refused: number[] = [];
    for (let from = 0; from < payloads.length; from += 1000) {
      const chunk = payloads.slice(from, from + 1000);
      const res = await fetch(`${this.baseUrl.replace(/\/$/, '')}/v1/events`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${this.token}`,
          'content-type': 'application/cloudevents-batch+json',
        },
        body: `[${chunk.join(',')}]`,
        signal: AbortSignal.timeout(30_000),
      });
      const text = await res.text();
      if (res.status === 202 || res.status === 400) {
        const body = JSON.parse(text) as { rejected?: Array<{ index: number }> };
        if (res.status === 400 && !body.rejected) throw new HttpSendError(`HTTP 400: ${text.slice(0, 300)}`);
        for (const r of body.rejected ?? []) refused.push(from + r.index);
        continue;
      }
      throw new HttpSendError(`HTTP ${res.status}: ${text.slice(0, 300)}`);
    }
    return refused;
  }

  async close(): Promise<void> {}
}
