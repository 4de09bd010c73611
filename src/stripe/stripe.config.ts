import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, IsUrl, Max, Min } from 'class-validator';
import { SliceContext, toInt } from '../config/config-slice';

/** How the service reaches Stripe and verifies its webhooks. */
export class StripeConfig {
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

  static readonly SECRETS = ['STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET'] as const;

  /** In production: a live key, an https API, verified webhooks. */
  static problems(c: StripeConfig, { production }: SliceContext): string[] {
    if (!production) return [];
    const when = 'when GPUMETER_ENV=production';
    const problems: string[] = [];
    if (c.STRIPE_SECRET_KEY === undefined || /^(sk|rk)_test_/.test(c.STRIPE_SECRET_KEY))
      problems.push(
        `STRIPE_SECRET_KEY: STRIPE_SECRET_KEY must be a live-mode key (sk_live_/rk_live_) ${when}`,
      );
    if (c.STRIPE_API_URL !== undefined && !c.STRIPE_API_URL.startsWith('https://'))
      problems.push(`STRIPE_API_URL: STRIPE_API_URL must be an https:// URL ${when}`);
    if (c.STRIPE_WEBHOOK_SECRET === undefined)
      problems.push(
        `STRIPE_WEBHOOK_SECRET: STRIPE_WEBHOOK_SECRET is required ${when} (Stripe's webhook events are verified with it)`,
      );
    return problems;
  }
}
