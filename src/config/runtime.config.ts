import { IsIn, Matches } from 'class-validator';
import { CLOCK_OFFSET_PATTERN, parseClockOffset } from '../common/time';
import { RuntimeEnvironment, SliceContext } from './config-slice';

/** How the service runs: its environment, its clock, its log level, test-only fault injection. */
export class RuntimeConfig {
  @IsIn(['development', 'test', 'production'])
  GPUMETER_ENV: RuntimeEnvironment = 'development';

  /**
   * Tests and local runs only (refused in production): the service's clock runs this far from
   * the machine's — a signed whole number of ms, s, m, h or d ("-36h", "+5d"). See Clock.
   */
  @Matches(CLOCK_OFFSET_PATTERN, {
    message: 'GPUMETER_CLOCK_OFFSET must be a signed whole number of ms, s, m, h or d, like -36h or +5d',
  })
  GPUMETER_CLOCK_OFFSET = '';

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

  /** Test-only settings are refused in production. */
  static problems(c: RuntimeConfig, { production }: SliceContext): string[] {
    if (!production) return [];
    const problems: string[] = [];
    if (c.FAULT_INJECTION !== '')
      problems.push(`FAULT_INJECTION: FAULT_INJECTION must not be set when GPUMETER_ENV=production`);
    if (parseClockOffset(c.GPUMETER_CLOCK_OFFSET) !== 0)
      problems.push(
        `GPUMETER_CLOCK_OFFSET: GPUMETER_CLOCK_OFFSET must not be set when GPUMETER_ENV=production`,
      );
    return problems;
  }
}
