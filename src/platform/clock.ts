import { Injectable } from '@nestjs/common';
import { RuntimeConfig } from '../config/runtime.config';
import { parseClockOffset } from '../common/time';

/**
 * "Now" for every decision of the service that depends on it: grace periods, threshold
 * windows, schedulers, budget alerts, retention, the allowance's month, webhook retries and
 * the disable policy, validity windows of events, and the `as_of`/`time` stamps. The
 * server-side twin of the agent's AgentClock: one injectable, so a test or a local run can set
 * it (`GPUMETER_CLOCK_OFFSET`, refused in production) and cross a month end, a grace period or
 * five days of failures without waiting or restarting.
 *
 * Kafka record times written by the service are its Clock's too (the API stamps each record
 * with its time of receipt, the "moment of ingestion" the consumer judges an event by), so line
 * tracing's cut and retention compare like with like. Not for durations a process measures for
 * itself (backoffs, timeouts, lingers): those stay on the machine's clock.
 */
@Injectable()
export class Clock {
  constructor(readonly offsetMs = 0) {}

  /** Epoch milliseconds now. */
  now(): number {
    return Date.now() + this.offsetMs;
  }

  date(): Date {
    return new Date(this.now());
  }
}

/** The service's clock as its configuration sets it (the module's provider, and CLI commands). */
export function clockFor(config: RuntimeConfig): Clock {
  return new Clock(parseClockOffset(config.GPUMETER_CLOCK_OFFSET) ?? 0);
}
