import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { ApiError, ApiErrorCode } from '../platform/errors/api-error';
import { KafkaService } from '../platform/kafka/kafka.service';
import { MetricsService } from '../platform/metrics/metrics.service';
import { FieldError } from './usage-event/usage-event';
import { TimeWindow, validateUsageEvent } from './usage-event/usage-event.validator';

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
      maxAgeMs: config.EVENT_MAX_AGE_DAYS * 86_400_000,
    };
  }

  async ingest(events: unknown[], receivedAtMs: number): Promise<IngestResult> {
    const rejected: IngestResult['rejected'] = [];
    const messages: Array<{ key: string; value: string; timestamp: string }> = [];
    const timestamp = String(receivedAtMs);
    events.forEach((raw, index) => {
      const verdict = validateUsageEvent(raw, receivedAtMs, this.window);
      if (verdict.ok) {
        messages.push({ key: verdict.record.workspace_id, value: JSON.stringify(raw), timestamp });
      } else {
        const id =
          raw && typeof raw === 'object' && typeof (raw as { id?: unknown }).id === 'string'
            ? (raw as { id: string }).id
            : null;
        rejected.push({ index, id, errors: verdict.errors });
        this.metrics.eventsRejected.inc({ field: verdict.errors[0]?.field ?? 'unknown' });
      }
    });
    try {
      await this.kafka.send(this.kafka.topics.usageEvents, messages);
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
