import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { KafkaConfig } from './kafka.config';
import { Admin, Consumer, ConsumerConfig, Kafka, logLevel } from 'kafkajs';
import { kafkaConnection } from './kafka-connection';
import { Topics, topicsFor } from './topics';

const KAFKAJS_TO_NEST: Record<number, 'error' | 'warn' | 'log' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'log',
  [logLevel.DEBUG]: 'debug',
};

/**
 * The one kafkajs client of the process (connection, TLS/SASL, retries, logs through Nest),
 * the contract's topic names, and consumers as every role wants them. Producing is
 * KafkaProducer's, administration KafkaAdmin's; starting a consumer is runConsumer's.
 */
@Injectable()
export class KafkaClient implements OnModuleDestroy {
  private readonly logger = new Logger('Kafka');
  readonly kafka: Kafka;
  readonly topics: Topics;
  private readonly consumers: Consumer[] = [];

  constructor(private readonly config: KafkaConfig) {
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

  /** A short admin session: connected for `use`, disconnected after, whatever happens. */
  async withAdmin<T>(use: (admin: Admin) => Promise<T>, options: { retries?: number } = {}): Promise<T> {
    const admin = this.kafka.admin(
      options.retries === undefined ? {} : { retry: { retries: options.retries } },
    );
    try {
      await admin.connect();
      return await use(admin);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  async onModuleDestroy(): Promise<void> {
    for (const c of this.consumers) await c.disconnect().catch(() => undefined);
  }
}
