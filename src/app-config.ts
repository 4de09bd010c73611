import { AuthConfig } from './auth/auth.config';
import { BudgetsConfig } from './budgets/budgets.config';
import { ConfigSliceClass, loadSlices } from './config/config-slice';
import { RuntimeConfig } from './config/runtime.config';
import { IngestionConfig } from './ingestion/ingestion.config';
import { InvoicingConfig } from './invoicing/invoicing.config';
import { MeteringConfig } from './metering/metering.config';
import { ClickHouseConfig } from './platform/clickhouse/clickhouse.config';
import { HttpConfig } from './platform/http/http.config';
import { KafkaConfig } from './platform/kafka/kafka.config';
import { RetentionConfig } from './retention/retention.config';
import { StripeConfig } from './stripe/stripe.config';
import { WebhooksConfig } from './webhooks/webhooks.config';

export { ConfigurationError } from './config/config-slice';

/**
 * Every module's configuration slice (contract §3 plus extensions; docs/configuration.md).
 * A module declares its slice beside its code and injects it; the process (main, serve, the
 * CLI, tests) holds the whole, AppConfig.
 */
export const CONFIG_SLICES = [
  RuntimeConfig,
  HttpConfig,
  KafkaConfig,
  ClickHouseConfig,
  IngestionConfig,
  MeteringConfig,
  InvoicingConfig,
  StripeConfig,
  WebhooksConfig,
  BudgetsConfig,
  AuthConfig,
  RetentionConfig,
] as const satisfies readonly ConfigSliceClass[];

type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void
  ? I
  : never;

/** The whole configuration: every slice's settings, each named like its environment variable. */
export type AppConfig = UnionToIntersection<InstanceType<(typeof CONFIG_SLICES)[number]>>;

const SLICES = Symbol('configuration slices');

/**
 * Reads and validates the environment, every slice; throws ConfigurationError naming each bad
 * variable. NODE_ENV=production without GPUMETER_ENV means production.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  const effective =
    !env.GPUMETER_ENV && env.NODE_ENV === 'production' ? { ...env, GPUMETER_ENV: 'production' } : env;
  const slices = loadSlices(
    effective,
    CONFIG_SLICES,
    (of) => of(RuntimeConfig).GPUMETER_ENV === 'production',
  );
  const whole = Object.assign({}, ...slices.values()) as AppConfig;
  // The slices themselves travel with the whole, for ConfigModule to provide each on its own.
  Object.defineProperty(whole, SLICES, { value: slices, enumerable: false });
  return whole;
}

/** Each slice as loaded (what ConfigModule provides under the slice's class). */
export function slicesOf(config: AppConfig): ReadonlyMap<ConfigSliceClass, object> {
  const slices = (config as unknown as { [SLICES]?: ReadonlyMap<ConfigSliceClass, object> })[SLICES];
  if (!slices) throw new Error('configuration was not made by loadConfig');
  return slices;
}
