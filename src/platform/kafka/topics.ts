import { KafkaConfig } from './kafka.config';

/** Contract §2 topic names, behind the optional KAFKA_TOPIC_PREFIX. */
export interface Topics {
  usageEvents: string;
  usageEventsDlq: string;
  billingEvents: string;
  /** Billing events a projection could not apply (same headers as the usage DLQ). */
  billingEventsDlq: string;
}

export function topicsFor(config: Pick<KafkaConfig, 'KAFKA_TOPIC_PREFIX'>): Topics {
  const p = config.KAFKA_TOPIC_PREFIX;
  return {
    usageEvents: `${p}usage.events.v1`,
    usageEventsDlq: `${p}usage.events.dlq.v1`,
    billingEvents: `${p}billing.events.v1`,
    billingEventsDlq: `${p}billing.events.dlq.v1`,
  };
}
