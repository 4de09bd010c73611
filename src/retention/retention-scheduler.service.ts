import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { RetentionConfig } from './retention.config';
import { HOUR_MS } from '../common/time';
import { RetentionService } from './retention.service';

/**
 * Runs raw event retention hourly in the worker role when RAW_EVENT_RETENTION_DAYS is set.
 * A month becomes due once a day at most, so an hour's delay costs nothing; a run that
 * waits (the consumer behind) or fails is simply run again an hour later.
 */
@Injectable()
export class RetentionScheduler implements OnApplicationShutdown {
  private readonly logger = new Logger(RetentionScheduler.name);
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(
    private readonly config: RetentionConfig,
    private readonly retention: RetentionService,
  ) {}

  start(): void {
    if (this.config.RAW_EVENT_RETENTION_DAYS === undefined) return;
    this.logger.log(
      `raw event retention on: closed months' raw events dropped ${this.config.RAW_EVENT_RETENTION_DAYS} days after they end`,
    );
    this.timer = setInterval(() => void this.tick(), HOUR_MS);
    void this.tick();
  }

  private async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (const o of await this.retention.run({ dryRun: false }))
        if (o.outcome === 'retired' || o.outcome === 'refused' || o.outcome === 'waiting')
          this.logger.log(`raw event retention ${o.period}: ${o.outcome}: ${o.detail}`);
    } catch (e) {
      this.logger.error(`raw event retention: ${(e as Error).message}`);
    } finally {
      this.running = false;
    }
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
