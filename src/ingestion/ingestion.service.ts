import { Injectable } from '@nestjs/common';
import type { SourcePatterns } from '../auth/source-patterns';
import { AppConfig } from '../config/app-config';
import { ApiError, ApiErrorCode } from '../common/api-error';
import { KafkaService } from '../platform/kafka/kafka.service';
import { MetricsService } from '../platform/metrics/metrics.service';
import { FieldError } from './usage-event/usage-event';
import { TimeWindow, validateUsageEvent } from './usage-event/usage-event.validator';
import { DAY_MS } from '../common/time';

export const MAX_EVENTS_PER_REQUEST = 1000;

export interface IngestResult {
  accepted: number;
  rejected: Array<{ index: number; id: string | null; errors: FieldError[] }>;
}

/**
 * Validates a batch of usage events and produces the valid ones to usage.events.v1, keyed
 * by workspace, acknowledged by all in-sync replicas before the caller hears "accepted".
 */
@Injectable()
export class IngestionService {
  private readonly window: TimeWindow;

  constructor(
    config: AppConfig,
    private readonly kafka: KafkaService,
    private readonly metrics: MetricsService,
  ) {
    this.window = {
      maxFutureMs: config.EVENT_MAX_FUTURE_SECONDS * 1000,
      maxAgeMs: config.EVENT_MAX_AGE_DAYS * DAY_MS,
    };
  }

  /**
   * `sources`: what the caller's credential may write (null: any). An event of another source
   * is rejected on its own, naming `source`: a token bound to one host cannot write another
   * host's interval ids first and so make its real usage a "duplicate" (issue 10, finding 2).
   */
  async ingest(
    events: unknown[],
    receivedAtMs: number,
    sources: SourcePatterns | null = null,
  ): Promise<IngestResult> {
    const rejected: IngestResult['rejected'] = [];
    const messages: Array<{ key: string; value: string; timestamp: string }> = [];
    const timestamp = String(receivedAtMs);
    const topic = this.kafka.topics.usageEvents;
    const reject = (index: number, raw: unknown, errors: FieldError[]) => {
      const id = raw && typeof raw === 'object' ? (raw as { id?: unknown }).id : undefined;
      rejected.push({ index, id: typeof id === 'string' && id.isWellFormed() ? id : null, errors });
      this.metrics.eventsRejected.inc({ field: errors[0]?.field ?? 'unknown' });
    };
    for (let index = 0; index < events.length; index++) {
      const raw = events[index];
      const verdict = validateUsageEvent(raw, receivedAtMs, this.window);
      if (!verdict.ok) {
        reject(index, raw, verdict.errors);
        continue;
      }
      if (sources !== null && !sources.covers(verdict.record.source)) {
        reject(index, raw, [
          {
            field: 'source',
            message: `this token may not write source ${JSON.stringify(verdict.record.source)}`,
          },
        ]);
        continue;
      }
      const message = { key: verdict.record.workspace_id, value: JSON.stringify(raw), timestamp };
      // Only possible with huge extension attributes: refused here rather than failing the batch.
      if (!(await this.kafka.fits(topic, message))) {
        reject(index, raw, [
          { field: '(event)', message: `the event is larger than ${topic} takes (max.message.bytes)` },
        ]);
        continue;
      }
      messages.push(message);
    }
    try {
      await this.kafka.send(topic, messages);
    } catch (e) {
      // Some partitions may have been written: the sender retries the whole batch and the
      // consumer's (source, id) dedupe makes the retry count once.
      throw new ApiError(
        ApiErrorCode.Unavailable,
        `Kafka did not acknowledge the events; retry the request (${(e as Error).message})`,
      );
    }
    this.metrics.eventsAccepted.inc(messages.length);
    return { accepted: messages.length, rejected };
  }
}
