import { Transform } from 'class-transformer';
import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { SliceContext, toInt, toList } from '../config/config-slice';

/** Outgoing webhooks: the key that seals endpoint secrets, the retry schedule, concurrency, disabling. */
export class WebhooksConfig {
  /**
   * Key (32 bytes, base64) that encrypts webhook endpoint secrets (AES-256-GCM) before they go
   * into billing events and ClickHouse: a signing secret must be kept retrievable, never in the
   * clear. Required in production; development and test use a fixed key when unset.
   */
  @IsOptional()
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

  static readonly SECRETS = ['WEBHOOK_SECRETS_KEY'] as const;

  static problems(c: WebhooksConfig, { production }: SliceContext): string[] {
    return production && c.WEBHOOK_SECRETS_KEY === undefined
      ? [
          'WEBHOOK_SECRETS_KEY: WEBHOOK_SECRETS_KEY must be 32 random bytes in base64 (required when GPUMETER_ENV=production); got (unset)',
        ]
      : [];
  }
}
