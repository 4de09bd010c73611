import { Injectable, Logger } from '@nestjs/common';
import { RuntimeConfig } from '../config/runtime.config';

/**
 * Test-only crashes at the two moments the resilience tests need (FAULT_INJECTION, refused in
 * production by the configuration): parsed once here, so domain classes only ask "now?".
 */
@Injectable()
export class FaultInjection {
  private readonly logger = new Logger(FaultInjection.name);
  private readonly crashAfterInsert: boolean;
  private readonly crashAfterStripeItems?: number;

  constructor(config: RuntimeConfig) {
    this.crashAfterInsert = config.FAULT_INJECTION === 'crash-after-insert';
    const m = /^crash-after-stripe-items=(\d+)$/.exec(config.FAULT_INJECTION);
    this.crashAfterStripeItems = m ? Number(m[1]) : undefined;
  }

  /** The consumer stored events and has not committed their offsets yet. */
  afterInsert(): void {
    if (!this.crashAfterInsert) return;
    this.logger.warn('FAULT_INJECTION=crash-after-insert: killing this process before the offset commit');
    process.kill(process.pid, 'SIGKILL');
  }

  /** An invoice push has created `created` Stripe invoice items so far. */
  afterStripeItems(created: number): void {
    if (this.crashAfterStripeItems === undefined || created < this.crashAfterStripeItems) return;
    this.logger.warn(`FAULT_INJECTION: killing this process after ${created} Stripe invoice items`);
    process.kill(process.pid, 'SIGKILL');
  }
}
