import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, Min, MinLength } from 'class-validator';
import { SliceContext, toInt, toList } from '../config/config-slice';

/** Who may call: the operator key, configured ingest tokens, the agent's token, rate limits. */
export class AuthConfig {
  /** Operator key. Required in production (see problems); at least 24 characters when set. */
  @IsOptional()
  @IsString()
  @MinLength(24, { message: 'ADMIN_API_KEY must be at least 24 characters' })
  ADMIN_API_KEY?: string;

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

  static readonly SECRETS = ['ADMIN_API_KEY', 'AGENT_TOKEN', 'INGEST_TOKENS'] as const;

  /** In production: an operator key of at least 32 characters, every ingest token bound to its sources. */
  static problems(c: AuthConfig, { production }: SliceContext): string[] {
    if (!production) return [];
    const when = 'when GPUMETER_ENV=production';
    const problems: string[] = [];
    if (c.ADMIN_API_KEY === undefined)
      problems.push(`ADMIN_API_KEY: ADMIN_API_KEY is required ${when}; got (unset)`);
    else if (c.ADMIN_API_KEY.length < 32)
      problems.push(`ADMIN_API_KEY: ADMIN_API_KEY must be at least 32 characters ${when}`);
    if (c.INGEST_TOKENS.some((t) => !/^[^=]{16,}=\S/.test(t)))
      problems.push(
        `INGEST_TOKENS: every INGEST_TOKENS entry must name the sources it may write (token=agent://host-*) ${when}`,
      );
    return problems;
  }
}
