import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, Min, MinLength } from 'class-validator';
import { SliceContext, toInt } from '../../config/config-slice';

/** The HTTP edge: where the service listens, whom it trusts, where /metrics is served. */
export class HttpConfig {
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(65535)
  PORT = 3000;

  /** Address the HTTP server binds; loopback by default, 0.0.0.0 behind a load balancer. */
  @IsString()
  @MinLength(1)
  HOST = '127.0.0.1';

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
   * `true`: every JSON answer of a 2xx status is checked against the OpenAPI document's schema
   * of its route before it leaves (a mismatch becomes a 500 naming the route and the field).
   * For the test suite, which turns it on: every route any test calls proves its documented
   * schema; it costs one validation per answer.
   */
  @IsIn(['true', 'false'], { message: 'OPENAPI_RESPONSE_CHECK must be true or false' })
  OPENAPI_RESPONSE_CHECK: 'true' | 'false' = 'false';

  static problems(c: HttpConfig, { production }: SliceContext): string[] {
    const problems: string[] = [];
    if (production && c.OPENAPI_RESPONSE_CHECK === 'true')
      problems.push(
        `OPENAPI_RESPONSE_CHECK: OPENAPI_RESPONSE_CHECK must not be true when GPUMETER_ENV=production`,
      );
    if (c.METRICS_PORT !== undefined && c.METRICS_PORT === c.PORT)
      problems.push(`METRICS_PORT: METRICS_PORT must differ from PORT`);
    return problems;
  }
}
