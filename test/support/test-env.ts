import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { loadConfig } from '../../src/app-config';
import { migrate } from '../../src/platform/clickhouse/migrator';
import { KafkaAdmin } from '../../src/platform/kafka/kafka-admin';
import { KafkaClient } from '../../src/platform/kafka/kafka-client';

export const ROOT = join(__dirname, '..', '..');
export const ADMIN_KEY = 'test-operator-key-0123456789abcdef';
export const AGENT_TOKEN = 'test-agent-token-0123456789abcdef';

/**
 * What a service needs, on top of an isolated environment, to start with GPUMETER_ENV=production
 * on the local stack: a live-shaped Stripe key (nothing here calls Stripe), a webhook secret,
 * the stack's ClickHouse user with a password (stack/clickhouse/users.xml).
 */
export function productionOverrides(): Record<string, string> {
  return {
    GPUMETER_ENV: 'production',
    STRIPE_SECRET_KEY: 'sk_live_localstacknotreal',
    STRIPE_WEBHOOK_SECRET: 'whsec_localstacknotreal',
    STRIPE_API_URL: '', // the emulators are http: Stripe itself (nothing here calls it)
    INGEST_TOKENS: `${AGENT_TOKEN}=agent://*`,
    KAFKA_ALLOW_PLAINTEXT: 'true', // the SASL_SSL listener has its own test (kafka-security)
    CLICKHOUSE_USER: 'gpumeter',
    CLICKHOUSE_PASSWORD: 'gpumeter-local-stack',
    WEBHOOK_SECRETS_KEY: Buffer.alloc(32, 9).toString('base64'),
    OPENAPI_RESPONSE_CHECK: 'false', // a test aid production refuses
  };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * An isolated environment on the shared local stack: its own ClickHouse database, topic
 * prefix and consumer group, so test files never see each other's data.
 */
export async function isolatedEnv(
  name: string,
  extra: Record<string, string> = {},
): Promise<Record<string, string>> {
  const suffix = `${name}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const env: Record<string, string> = {
    GPUMETER_ENV: 'test',
    KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
    CLICKHOUSE_URL: process.env.CLICKHOUSE_URL ?? 'http://127.0.0.1:8123',
    CLICKHOUSE_DATABASE: `t_${suffix}`,
    KAFKA_TOPIC_PREFIX: `t.${suffix}.`,
    KAFKA_CONSUMER_GROUP: `t-${suffix}`,
    KAFKA_USAGE_PARTITIONS: '3',
    ADMIN_API_KEY: ADMIN_KEY,
    INGEST_TOKENS: AGENT_TOKEN,
    LOG_LEVEL: 'warn',
    KAFKA_SESSION_TIMEOUT_MS: '6000',
    // Suites send thousands of bad tokens from one address on purpose (fuzzing); the limit
    // itself is tested in auth.int-spec.ts.
    AUTH_FAILURES_PER_MINUTE: '1000000',
    // Every JSON answer any suite receives is checked against the OpenAPI document.
    OPENAPI_RESPONSE_CHECK: 'true',
    ...extra,
  };
  const config = loadConfig(env);
  await migrate(config, join(ROOT, 'migrations'));
  // As `gpumeter serve` does at start-up, so tests may write to the topics before it runs.
  const client = new KafkaClient(config);
  await new KafkaAdmin(client, config).ensureTopics();
  await client.onModuleDestroy();
  return env;
}
