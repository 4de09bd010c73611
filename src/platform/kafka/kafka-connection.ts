import { readFileSync } from 'node:fs';
import { Kafka, logLevel, type KafkaConfig as KafkaJsConfig, type SASLOptions } from 'kafkajs';
import { KafkaConfig, kafkaUsesTls } from './kafka.config';

/**
 * How every gpumeter Kafka client reaches the brokers — the service, the agent, every CLI
 * command — from one set of variables (KAFKA_BROKERS, KAFKA_SSL*, KAFKA_SASL_*): the same
 * TLS and SASL everywhere, never a client configured by hand.
 */
export type KafkaConnection = Pick<KafkaJsConfig, 'brokers' | 'ssl' | 'sasl'>;

export function kafkaConnection(config: KafkaConfig): KafkaConnection {
  const connection: KafkaConnection = { brokers: config.KAFKA_BROKERS };
  if (kafkaUsesTls(config)) {
    const read = (file: string | undefined) => (file === undefined ? undefined : readFileSync(file, 'utf8'));
    const ca = read(config.KAFKA_SSL_CA_FILE);
    const cert = read(config.KAFKA_SSL_CERT_FILE);
    const key = read(config.KAFKA_SSL_KEY_FILE);
    connection.ssl =
      ca === undefined && cert === undefined ? true : { ca: ca === undefined ? undefined : [ca], cert, key };
  }
  if (config.KAFKA_SASL_MECHANISM !== 'none') {
    connection.sasl = {
      mechanism: config.KAFKA_SASL_MECHANISM,
      username: config.KAFKA_SASL_USERNAME ?? '',
      password: config.KAFKA_SASL_PASSWORD ?? '',
    } as SASLOptions;
  }
  return connection;
}

/**
 * What to tell the operator when the brokers refuse us: the variable to fix, not a stack
 * trace (null when the error is not about TLS or credentials).
 */
export function describeKafkaSecurityError(e: unknown): string | null {
  const err = e as { name?: string; message?: string; code?: string; cause?: unknown };
  const text = `${err?.name ?? ''} ${err?.message ?? ''} ${err?.code ?? ''}`;
  if (/SASLAuthentication|Authentication failed|SASL/i.test(text))
    return `Kafka refused the SASL credentials (check KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD): ${err.message}`;
  if (/certificate|self.signed|UNABLE_TO_VERIFY|CERT_|ERR_TLS|SSL routines|wrong version number/i.test(text))
    return `TLS to Kafka failed (check KAFKA_SSL, KAFKA_SSL_CA_FILE and that KAFKA_BROKERS is a TLS listener): ${err.message}`;
  if (err?.cause) return describeKafkaSecurityError(err.cause);
  return null;
}

/** The brokers refused our TLS or credentials: a configuration error (exit 78), not an outage. */
export class KafkaSecurityError extends Error {
  override readonly name = 'KafkaSecurityError';
}

/**
 * One connection attempt without retries, at start-up: a wrong password or CA fails in
 * seconds with the variable to fix, instead of disappearing into the client's retries. A
 * broker that is merely down is not an error here (the callers ride out outages).
 */
export async function probeKafkaSecurity(connection: KafkaConnection, clientId: string): Promise<void> {
  const admin = new Kafka({
    ...connection,
    clientId,
    connectionTimeout: 5000,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  }).admin();
  try {
    await admin.connect();
    await admin.fetchTopicMetadata({ topics: [] });
  } catch (e) {
    const described = describeKafkaSecurityError(e);
    if (described) throw new KafkaSecurityError(described);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
