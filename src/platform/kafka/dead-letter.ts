import { IHeaders, KafkaMessage, Message } from 'kafkajs';
import { KafkaProducer } from './kafka-producer';

/** A record refused by a consumer, with why (contract §2's dead-letter headers). */
export interface DeadLetter {
  /** The record, or for one event of a batch record that event on its own (`index`). */
  message: KafkaMessage;
  partition: number;
  reason: string;
  detail: string;
  /** The event's position in its batch record (header `original-index`). */
  index?: number;
}

/**
 * Writes refused records to a dead-letter topic: the original key, bytes and headers, plus
 * `error-reason`, `error-detail`, `original-topic`, `original-partition`, `original-offset`,
 * and `original-index` for one event out of a batch record (its bytes are that event alone).
 * A DLQ takes twice what its source topic does; should an operator have raised the source's
 * limit past it, the record is written cut short (`original-truncated: true`) rather than
 * blocking its partition; the original stays on the source topic at original-offset.
 */
export async function sendDeadLetters(
  kafka: KafkaProducer,
  dlqTopic: string,
  sourceTopic: string,
  deadLetters: readonly DeadLetter[],
): Promise<void> {
  const messages: Message[] = [];
  for (const d of deadLetters) {
    const message: Message = {
      key: d.message.key,
      value: d.message.value,
      headers: {
        ...(d.message.headers as IHeaders),
        'error-reason': d.reason,
        'error-detail': d.detail.slice(0, 2000),
        'original-topic': sourceTopic,
        'original-partition': String(d.partition),
        'original-offset': d.message.offset,
        ...(d.index === undefined ? {} : { 'original-index': String(d.index) }),
      },
    };
    if (!(await kafka.fits(dlqTopic, message))) {
      message.value = (d.message.value ?? Buffer.alloc(0)).subarray(0, 64 * 1024);
      message.headers = { ...message.headers, 'original-truncated': 'true' };
    }
    messages.push(message);
  }
  await kafka.send(dlqTopic, messages);
}
