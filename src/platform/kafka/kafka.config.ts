import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, MinLength, ValidateIf } from 'class-validator';
import { SliceContext, toInt, toList } from '../../config/config-slice';
import { readFileSync } from 'node:fs';

/** Whether the brokers are reached with TLS (asked for, or implied by a TLS file). */
export function kafkaUsesTls(
  config: Pick<KafkaConfig, 'KAFKA_SSL' | 'KAFKA_SSL_CA_FILE' | 'KAFKA_SSL_CERT_FILE'>,
): boolean {
  return (
    config.KAFKA_SSL === 'true' ||
    config.KAFKA_SSL_CA_FILE !== undefined ||
    config.KAFKA_SSL_CERT_FILE !== undefined
  );
}

/** How the service reaches Kafka (TLS, SASL), what it calls its topics and group, how it creates them. */
export class KafkaConfig {
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

  @ValidateIf((c: KafkaConfig) => c.KAFKA_SASL_MECHANISM !== 'none' || c.KAFKA_SASL_USERNAME !== undefined)
  @IsString({ message: 'KAFKA_SASL_USERNAME is required when KAFKA_SASL_MECHANISM is set' })
  @MinLength(1)
  KAFKA_SASL_USERNAME?: string;

  @ValidateIf((c: KafkaConfig) => c.KAFKA_SASL_MECHANISM !== 'none' || c.KAFKA_SASL_PASSWORD !== undefined)
  @IsString({ message: 'KAFKA_SASL_PASSWORD is required when KAFKA_SASL_MECHANISM is set' })
  @MinLength(1)
  KAFKA_SASL_PASSWORD?: string;

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

  static readonly SECRETS = ['KAFKA_SASL_PASSWORD'] as const;

  /**
   * Kafka TLS files must be readable PEM and a client certificate comes with its key; in
   * production the brokers are reached with TLS and authenticated (or plaintext is allowed).
   */
  static problems(c: KafkaConfig, { production }: SliceContext): string[] {
    const problems: string[] = [];
    for (const name of ['KAFKA_SSL_CA_FILE', 'KAFKA_SSL_CERT_FILE', 'KAFKA_SSL_KEY_FILE'] as const) {
      const file = c[name];
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
    if ((c.KAFKA_SSL_CERT_FILE === undefined) !== (c.KAFKA_SSL_KEY_FILE === undefined))
      problems.push('KAFKA_SSL_CERT_FILE: KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE go together');
    const authenticated = c.KAFKA_SASL_MECHANISM !== 'none' || c.KAFKA_SSL_CERT_FILE !== undefined;
    if (production && c.KAFKA_ALLOW_PLAINTEXT !== 'true' && !(kafkaUsesTls(c) && authenticated))
      problems.push(
        `KAFKA_SSL: Kafka must be reached with TLS (KAFKA_SSL=true) and authenticated (KAFKA_SASL_MECHANISM or a client certificate) when GPUMETER_ENV=production, or KAFKA_ALLOW_PLAINTEXT=true on a trusted network`,
      );
    return problems;
  }
}
