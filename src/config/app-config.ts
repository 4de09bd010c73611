import { CLOCK_OFFSET_PATTERN, parseClockOffset } from '../common/time';
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { plainToInstance, Transform } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  Min,
  MinLength,
  ValidateIf,
  validateSync,
  ValidationError,
} from 'class-validator';

/** Environment variable text → number, leaving non-numbers for the validator to name. */
const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : value;
const toList = ({ value }: { value: unknown }) =>
  typeof value === 'string'
    ? value
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0)
    : value;

export type RuntimeEnvironment = 'development' | 'test' | 'production';

/**
 * The one configuration of gpumeter (contract §3 plus extensions). Nothing else reads
 * process.env. Each property is named exactly like its environment variable so that an
 * error message can name the variable the operator has to fix.
 */
export class AppConfig {
  @IsIn(['development', 'test', 'production'])
  GPUMETER_ENV: RuntimeEnvironment = 'development';

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(65535)
  PORT = 3000;

  /** Address the HTTP server binds; loopback by default, 0.0.0.0 behind a load balancer. */
  @IsString()
  @MinLength(1)
  HOST = '127.0.0.1';

  /** Comma-separated host:port list. */
  @Transform(toList)
  @Matches(/^[A-Za-z0-9.\-_[\]:]+:\d+$/, {
    each: true,
    message: 'KAFKA_BROKERS must be host:port[,host:port…]',
  })
  @MinLength(1, { each: true })
  KAFKA_BROKERS: string[] = ['localhost:9092'];

  @IsString()
  KAFKA_CLIENT_ID = 'gpumeter';

  /** TLS to the brokers (`true` also when any KAFKA_SSL_*_FILE is set). */
  @IsIn(['true', 'false'], { message: 'KAFKA_SSL must be true or false' })
  KAFKA_SSL: 'true' | 'false' = 'false';

  /** PEM file of the CA(s) that signed the brokers' certificates (unset: the system's CAs). */
  @IsOptional()
  @IsString()
  KAFKA_SSL_CA_FILE?: string;

  /** PEM files of a client certificate and its key, for brokers that authenticate clients by TLS. */
  @IsOptional()
  @IsString()
  KAFKA_SSL_CERT_FILE?: string;

  @IsOptional()
  @IsString()
  KAFKA_SSL_KEY_FILE?: string;

  /** SASL authentication to the brokers. */
  @IsIn(['none', 'plain', 'scram-sha-256', 'scram-sha-512'], {
    message: 'KAFKA_SASL_MECHANISM must be none, plain, scram-sha-256 or scram-sha-512',
  })
  KAFKA_SASL_MECHANISM: 'none' | 'plain' | 'scram-sha-256' | 'scram-sha-512' = 'none';

  @ValidateIf((c: AppConfig) => c.KAFKA_SASL_MECHANISM !== 'none' || c.KAFKA_SASL_USERNAME !== undefined)
  @IsString({ message: 'KAFKA_SASL_USERNAME is required when KAFKA_SASL_MECHANISM is set' })
  @MinLength(1)
  KAFKA_SASL_USERNAME?: string;

  @ValidateIf((c: AppConfig) => c.KAFKA_SASL_MECHANISM !== 'none' || c.KAFKA_SASL_PASSWORD !== undefined)
  @IsString({ message: 'KAFKA_SASL_PASSWORD is required when KAFKA_SASL_MECHANISM is set' })
  @MinLength(1)
  KAFKA_SASL_PASSWORD?: string;

  /**
   * `true`: every JSON answer of a 2xx status is checked against the OpenAPI document's schema
   * of its route before it leaves (a mismatch becomes a 500 naming the route and the field).
   * For the test suite, which turns it on: every route any test calls proves its documented
   * schema; it costs one validation per answer.
   */
  @IsIn(['true', 'false'], { message: 'OPENAPI_RESPONSE_CHECK must be true or false' })
  OPENAPI_RESPONSE_CHECK: 'true' | 'false' = 'false';

  /**
   * Tests and local runs only (refused in production): the service's clock runs this far from
   * the machine's — a signed whole number of ms, s, m, h or d ("-36h", "+5d"). See Clock.
   */
  @Matches(CLOCK_OFFSET_PATTERN, {
    message: 'GPUMETER_CLOCK_OFFSET must be a signed whole number of ms, s, m, h or d, like -36h or +5d',
  })
  GPUMETER_CLOCK_OFFSET = '';

  /** Production refuses brokers without TLS and authentication unless this is `true`. */
  @IsIn(['true', 'false'], { message: 'KAFKA_ALLOW_PLAINTEXT must be true or false' })
  KAFKA_ALLOW_PLAINTEXT: 'true' | 'false' = 'false';

  /** Prepended to every topic name; lets several environments (or test runs) share one cluster. */
  @Matches(/^[A-Za-z0-9._-]*$/)
  KAFKA_TOPIC_PREFIX = '';

  @Matches(/^[A-Za-z0-9._-]+$/)
  KAFKA_CONSUMER_GROUP = 'gpumeter-metering';

  /**
   * How long the group waits for a consumer that stopped heart-beating before handing its
   * partitions to another. Shorter recovers faster after a crash; longer rides out pauses.
   */
  @Transform(toInt)
  @IsInt()
  @Min(6000)
  @Max(300000)
  KAFKA_SESSION_TIMEOUT_MS = 30000;

  /** Partitions of usage.events.v1 when gpumeter creates it. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1024)
  KAFKA_USAGE_PARTITIONS = 6;

  /**
   * How the service's producer compresses what it writes to Kafka: `none`, or `gzip` (built
   * into kafkajs; the events are repetitive JSON: measured 456 → 19 bytes an event in
   * Kafka's log, docs/capacity.md). Consumers read either.
   */
  @IsIn(['none', 'gzip'], { message: 'KAFKA_COMPRESSION must be none or gzip' })
  KAFKA_COMPRESSION: 'none' | 'gzip' = 'none';

  /** Topic retention when gpumeter creates topics: −1 keeps everything; default 400 days, a billing year and a quarter. */
  @Transform(toInt)
  @IsInt()
  @Min(-1)
  KAFKA_RETENTION_MS = 400 * 24 * 3600 * 1000;

  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  CLICKHOUSE_URL = 'http://localhost:8123';

  @Matches(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, {
    message: 'CLICKHOUSE_DATABASE must be an identifier: letters, digits and _ (max 64)',
  })
  CLICKHOUSE_DATABASE = 'gpumeter';

  /**
   * Cluster mode (issue 14): the name of a cluster in the servers' remote_servers. Migrations
   * then make replicated shard-local tables and Distributed tables over them, sharded by
   * workspace (platform/clickhouse/cluster-ddl.ts), and inserts wait until the shard stored
   * them. Unset: one server, as before.
   */
  @IsOptional()
  @Matches(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, {
    message: 'CLICKHOUSE_CLUSTER must be a cluster name: letters, digits and _ (max 64)',
  })
  CLICKHOUSE_CLUSTER?: string;

  /**
   * Test only: a folder where every statement sent to ClickHouse is logged with its data and
   * answers, for the chDB differential lane (platform/clickhouse/statement-log.ts). Refused in
   * production: it writes every row to disk.
   */
  @IsOptional()
  @IsString()
  CLICKHOUSE_STATEMENT_LOG?: string;

  @IsString()
  CLICKHOUSE_USER = 'default';

  @IsString()
  CLICKHOUSE_PASSWORD = '';

  @IsOptional()
  @IsString()
  // stripe-mock accepts only sk_test_ followed by letters and digits.
  STRIPE_SECRET_KEY?: string = 'sk_test_gpumeterlocal';

  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  STRIPE_API_URL?: string;

  @IsOptional()
  @IsString()
  STRIPE_WEBHOOK_SECRET?: string;

  /** Stripe requests in flight at once (Stripe allows 100/s in live mode, 25/s in test mode). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(64)
  STRIPE_MAX_CONCURRENCY = 8;

  /** Hours after a period's end before its invoices are finalized (late usage still lands on them). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(24 * 45)
  INVOICE_GRACE_HOURS = 72;

  /** How often the scheduler looks for a period to invoice; 0 turns it off. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(86400)
  INVOICE_SCHEDULER_INTERVAL_SECONDS = 300;

  /**
   * How often the worker looks for workspaces whose open month's unbilled spend reached their
   * billing threshold and draws up their threshold invoices; 0 turns it off.
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(86400)
  THRESHOLD_BILLING_INTERVAL_SECONDS = 300;

  /**
   * Key (32 bytes, base64) that encrypts webhook endpoint secrets (AES-256-GCM) before they go
   * into billing events and ClickHouse: a signing secret must be kept retrievable, never in the
   * clear. Required in production; development and test use a fixed key when unset.
   */
  @ValidateIf((c: AppConfig) => c.GPUMETER_ENV === 'production' || c.WEBHOOK_SECRETS_KEY !== undefined)
  @Matches(/^[A-Za-z0-9+/]{43}=$/, {
    message: 'WEBHOOK_SECRETS_KEY must be 32 random bytes in base64 (required when GPUMETER_ENV=production)',
  })
  WEBHOOK_SECRETS_KEY?: string;

  /** Seconds after the first attempt at which each retry goes out (Standard Webhooks' schedule: ≈ 27.6 h in all). */
  @Transform(toList)
  @Matches(/^\d{1,6}$/, {
    each: true,
    message: 'WEBHOOK_RETRY_SCHEDULE_SECONDS must be whole seconds, comma-separated',
  })
  WEBHOOK_RETRY_SCHEDULE_SECONDS: string[] = ['0', '5', '300', '1800', '7200', '18000', '36000', '36000'];

  /** Deliveries in flight at once, in all and per endpoint (a slow endpoint never holds up the others). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1024)
  WEBHOOK_MAX_CONCURRENCY = 32;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(64)
  WEBHOOK_MAX_CONCURRENCY_PER_ENDPOINT = 4;

  /** Days an endpoint may fail without a single success before it is disabled. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(60)
  WEBHOOK_DISABLE_AFTER_DAYS = 5;

  /** How often budget alerts are evaluated for the workspaces that got usage (a full sweep runs every minute). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(60)
  BUDGET_ALERT_INTERVAL_SECONDS = 5;

  /** How often the allowance's memory (enforced budgets, caps reached) is reloaded. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(60_000)
  ALLOWANCE_REFRESH_MILLISECONDS = 1000;

  /** Operator key. Required in production; at least 24 characters when set. */
  @ValidateIf((c: AppConfig) => c.GPUMETER_ENV === 'production' || c.ADMIN_API_KEY !== undefined)
  @IsString({ message: 'ADMIN_API_KEY is required when GPUMETER_ENV=production' })
  @MinLength(24, { message: 'ADMIN_API_KEY must be at least 24 characters' })
  ADMIN_API_KEY?: string;

  /** How often each API process reloads the credentials it keeps in memory (keys, agent tokens). */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(5000)
  CREDENTIALS_REFRESH_MILLISECONDS = 1000;

  /** Requests per second one credential may make (429 with Retry-After beyond). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  RATE_LIMIT_PER_CREDENTIAL_PER_SECOND = 500;

  /** Failed authentications per minute from one client address before they are answered 429. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  AUTH_FAILURES_PER_MINUTE = 30;

  /**
   * Proxies in front of the service whose X-Forwarded-For is believed (0: none, the socket's
   * address is the client's). Set it to the number of load balancers, or failed-auth limits
   * count the balancer's address.
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(10)
  TRUST_PROXY = 0;

  /**
   * When set, /metrics and /docs are served on this port (bound to HOST) and nowhere else, open to
   * whoever reaches it (keep it off the public network). Unset: they are served on PORT to the
   * operator key only.
   */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(65535)
  METRICS_PORT?: number;

  /**
   * Agent ingest tokens accepted by POST /v1/events: `token` (any source; development and
   * test only) or `token=agent://host-*|agent://rack-4/*` (the sources it may write; required
   * in production). Agent tokens made with POST /v1/agent-tokens need no configuration.
   */
  @Transform(toList)
  @Matches(/^[^=\s]{16,}(=\S+)?$/, {
    each: true,
    message: 'INGEST_TOKENS: each token must be at least 16 characters, optionally =source|source…',
  })
  INGEST_TOKENS: string[] = [];

  /**
   * The token `gpumeter agent --via http` sends: one made for this host with
   * POST /v1/agent-tokens. Unset: the first of INGEST_TOKENS (development).
   */
  @IsOptional()
  @Matches(/^\S{16,}$/, { message: 'AGENT_TOKEN must be at least 16 characters without spaces' })
  AGENT_TOKEN?: string;

  /** How old (ended_at before ingestion) an event may be and still be accepted. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(400)
  EVENT_MAX_AGE_DAYS = 35;

  /**
   * Raw event retention (src/retention): a closed month's raw usage events are dropped from
   * ClickHouse this many days after the month ended; its rollups, invoices and the usage of
   * its price-cut hours are kept. Unset: raw events are kept for ever. Must exceed
   * EVENT_MAX_AGE_DAYS + 1, so that no event of a month can still be accepted when its raw
   * events (the dedupe's memory) are dropped.
   */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(3)
  @Max(36500)
  RAW_EVENT_RETENTION_DAYS?: number;

  /** How far in the future ended_at may be, to absorb agent clock skew. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(3600)
  EVENT_MAX_FUTURE_SECONDS = 300;

  /**
   * Events of a fetch stored and committed together at most (a larger fetch is cut into
   * slices of about this many). Slices that arrive together share one insert, and an insert
   * of at least this many events goes without lingering.
   */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(500000)
  CONSUMER_MAX_BATCH_EVENTS = 20000;

  /**
   * How long a small insert round (fewer than CONSUMER_MAX_BATCH_EVENTS events) waits for
   * more before the consumer stores it; 0 stores at once. Fewer, larger inserts leave
   * ClickHouse fewer parts to merge; this bounds what the wait adds to freshness.
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(5000)
  CONSUMER_INSERT_LINGER_MILLISECONDS = 200;

  /**
   * Test-only fault injection, refused in production. `crash-after-insert`: the consumer
   * SIGKILLs itself right after its first ClickHouse insert, before committing offsets.
   * `crash-after-stripe-items=N`: an invoice run SIGKILLs itself after creating N Stripe
   * invoice items.
   */
  @Matches(/^(|crash-after-insert|crash-after-stripe-items=\d{1,6})$/, {
    message: 'FAULT_INJECTION must be crash-after-insert or crash-after-stripe-items=<n>',
  })
  FAULT_INJECTION = '';

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  /** Names of the settings that are secrets: never logged, never echoed in errors. */
  static readonly SECRETS: ReadonlySet<string> = new Set([
    'ADMIN_API_KEY',
    'AGENT_TOKEN',
    'INGEST_TOKENS',
    'KAFKA_SASL_PASSWORD',
    'STRIPE_SECRET_KEY',
    'STRIPE_WEBHOOK_SECRET',
    'CLICKHOUSE_PASSWORD',
    'WEBHOOK_SECRETS_KEY',
  ]);
}

export class ConfigurationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigurationError';
  }
}

function describe(errors: ValidationError[], env: Record<string, string | undefined>): string[] {
  return errors.flatMap((e) => {
    const raw = env[e.property];
    const shown =
      raw === undefined
        ? '(unset)'
        : AppConfig.SECRETS.has(e.property)
          ? '(secret, not shown)'
          : JSON.stringify(raw);
    const messages = Object.values(e.constraints ?? {});
    return messages.map(
      (m) => `${e.property}: ${m.startsWith(e.property) ? m : `${e.property} ${m}`}; got ${shown}`,
    );
  });
}

/**
 * Settings that are valid but unsafe in production (issue 10): each would let the service
 * run while charging nobody, accepting forged Stripe events, or opening its stores.
 */
function productionRefusals(config: AppConfig): string[] {
  const problems: string[] = [];
  const when = 'when GPUMETER_ENV=production';
  if (config.CLICKHOUSE_STATEMENT_LOG !== undefined)
    problems.push(
      `CLICKHOUSE_STATEMENT_LOG: CLICKHOUSE_STATEMENT_LOG is for tests (it writes every row to disk) and must be unset ${when}`,
    );
  if (config.STRIPE_SECRET_KEY === undefined || /^(sk|rk)_test_/.test(config.STRIPE_SECRET_KEY))
    problems.push(`STRIPE_SECRET_KEY: STRIPE_SECRET_KEY must be a live-mode key (sk_live_/rk_live_) ${when}`);
  if (config.STRIPE_API_URL !== undefined && !config.STRIPE_API_URL.startsWith('https://'))
    problems.push(`STRIPE_API_URL: STRIPE_API_URL must be an https:// URL ${when}`);
  if (config.STRIPE_WEBHOOK_SECRET === undefined)
    problems.push(
      `STRIPE_WEBHOOK_SECRET: STRIPE_WEBHOOK_SECRET is required ${when} (Stripe's webhook events are verified with it)`,
    );
  if (config.CLICKHOUSE_PASSWORD === '')
    problems.push(`CLICKHOUSE_PASSWORD: CLICKHOUSE_PASSWORD must not be empty ${when}`);
  if (config.INGEST_TOKENS.some((t) => !/^[^=]{16,}=\S/.test(t)))
    problems.push(
      `INGEST_TOKENS: every INGEST_TOKENS entry must name the sources it may write (token=agent://host-*) ${when}`,
    );
  const authenticated = config.KAFKA_SASL_MECHANISM !== 'none' || config.KAFKA_SSL_CERT_FILE !== undefined;
  if (config.KAFKA_ALLOW_PLAINTEXT !== 'true' && !(kafkaUsesTls(config) && authenticated))
    problems.push(
      `KAFKA_SSL: Kafka must be reached with TLS (KAFKA_SSL=true) and authenticated (KAFKA_SASL_MECHANISM or a client certificate) ${when}, or KAFKA_ALLOW_PLAINTEXT=true on a trusted network`,
    );
  if (config.ADMIN_API_KEY !== undefined && config.ADMIN_API_KEY.length < 32)
    problems.push(`ADMIN_API_KEY: ADMIN_API_KEY must be at least 32 characters ${when}`);
  return problems;
}

/** Kafka TLS files must be readable PEM; a client certificate comes with its key. */
function kafkaSecurityProblems(config: AppConfig): string[] {
  const problems: string[] = [];
  for (const name of ['KAFKA_SSL_CA_FILE', 'KAFKA_SSL_CERT_FILE', 'KAFKA_SSL_KEY_FILE'] as const) {
    const file = config[name];
    if (file === undefined) continue;
    try {
      if (!readFileSync(file, 'utf8').includes('-----BEGIN '))
        problems.push(`${name}: ${name} must be a PEM file; got ${JSON.stringify(file)}`);
    } catch (e) {
      problems.push(
        `${name}: ${name} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'}); got ${JSON.stringify(file)}`,
      );
    }
  }
  if ((config.KAFKA_SSL_CERT_FILE === undefined) !== (config.KAFKA_SSL_KEY_FILE === undefined))
    problems.push('KAFKA_SSL_CERT_FILE: KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE go together');
  return problems;
}

/** Whether the brokers are reached with TLS (asked for, or implied by a TLS file). */
export function kafkaUsesTls(config: AppConfig): boolean {
  return (
    config.KAFKA_SSL === 'true' ||
    config.KAFKA_SSL_CA_FILE !== undefined ||
    config.KAFKA_SSL_CERT_FILE !== undefined
  );
}

/** Reads and validates the environment; throws ConfigurationError naming each bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  const known = Object.keys(new AppConfig());
  const plain: Record<string, string> = {};
  for (const name of [
    ...known,
    'ADMIN_API_KEY',
    'AGENT_TOKEN',
    'KAFKA_SSL_CA_FILE',
    'KAFKA_SSL_CERT_FILE',
    'KAFKA_SSL_KEY_FILE',
    'KAFKA_SASL_USERNAME',
    'KAFKA_SASL_PASSWORD',
    'METRICS_PORT',
    'RAW_EVENT_RETENTION_DAYS',
    'STRIPE_API_URL',
    'STRIPE_WEBHOOK_SECRET',
    'WEBHOOK_SECRETS_KEY',
  ]) {
    const value = env[name];
    if (value !== undefined && value !== '') plain[name] = value;
  }
  if (plain.GPUMETER_ENV === undefined && env.NODE_ENV === 'production') plain.GPUMETER_ENV = 'production';
  const config = plainToInstance(AppConfig, plain, { exposeDefaultValues: true });
  const problems = describe(validateSync(config, { forbidUnknownValues: false }), env);
  // Test-only settings are refused in production (checked here: class-validator's
  // ValidateIf would switch off the property's other rules too).
  if (config.GPUMETER_ENV === 'production') {
    if (config.FAULT_INJECTION !== '')
      problems.push(`FAULT_INJECTION: FAULT_INJECTION must not be set when GPUMETER_ENV=production`);
    if (parseClockOffset(config.GPUMETER_CLOCK_OFFSET) !== 0)
      problems.push(
        `GPUMETER_CLOCK_OFFSET: GPUMETER_CLOCK_OFFSET must not be set when GPUMETER_ENV=production`,
      );
    if (config.OPENAPI_RESPONSE_CHECK === 'true')
      problems.push(
        `OPENAPI_RESPONSE_CHECK: OPENAPI_RESPONSE_CHECK must not be true when GPUMETER_ENV=production`,
      );
    problems.push(...productionRefusals(config));
  }
  problems.push(...kafkaSecurityProblems(config));
  if (
    config.RAW_EVENT_RETENTION_DAYS !== undefined &&
    config.RAW_EVENT_RETENTION_DAYS <= config.EVENT_MAX_AGE_DAYS + 1
  )
    problems.push(
      `RAW_EVENT_RETENTION_DAYS: RAW_EVENT_RETENTION_DAYS must be more than EVENT_MAX_AGE_DAYS + 1 (${config.EVENT_MAX_AGE_DAYS + 1}): an event of a month must no longer be accepted when its raw events are dropped; got ${config.RAW_EVENT_RETENTION_DAYS}`,
    );
  if (config.METRICS_PORT !== undefined && config.METRICS_PORT === config.PORT)
    problems.push(`METRICS_PORT: METRICS_PORT must differ from PORT`);
  if (problems.length > 0) throw new ConfigurationError(problems);
  return config;
}
