import { Injectable } from '@nestjs/common';
import { IngestionConfig } from './ingestion.config';
import type { SourcePatterns } from '../auth/source-patterns';
import { ApiError, ApiErrorCode } from '../common/api-error';
import { KafkaProducer } from '../platform/kafka/kafka-producer';
import { MetricsService } from '../platform/metrics/metrics.service';
import { FieldError } from './usage-event/usage-event';
import { TimeWindow, validateUsageEvent } from './usage-event/usage-event.validator';
import { PackableEvent, packUsageRecords } from './usage-event/usage-records';
import { DAY_MS } from '../common/time';

export const MAX_EVENTS_PER_REQUEST = 1000;

export interface IngestResult {
  accepted: number;
  rejected: Array<{ index: number; id: string | null; errors: FieldError[] }>;
}

/**
 * Validates a batch of usage events and produces the valid ones to usage.events.v1 — records
 * of one source each, keyed by the source (usage-records.ts) — acknowledged by all in-sync
 * replicas before the caller hears "accepted".
 */
@Injectable()
export class IngestionService {
  private readonly window: TimeWindow;

  constructor(
    config: IngestionConfig,
    private readonly kafka: KafkaProducer,
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
    /** Each event's JSON text as received (topLevelJsonTexts of the body), used when it has one per event. */
    texts: readonly string[] | null = null,
  ): Promise<IngestResult> {
    const asReceived = texts !== null && texts.length === events.length ? texts : null;
    const rejected: IngestResult['rejected'] = [];
    const timestamp = String(receivedAtMs);
    const topic = this.kafka.topics.usageEvents;
    const reject = (index: number, raw: unknown, errors: FieldError[]) => {
      const id = raw && typeof raw === 'object' ? (raw as { id?: unknown }).id : undefined;
      rejected.push({ index, id: typeof id === 'string' && id.isWellFormed() ? id : null, errors });
      this.metrics.eventsRejected.inc({ field: errors[0]?.field ?? 'unknown' });
    };
    const valid: PackableEvent[] = [];
    const validIndex: number[] = [];
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
      valid.push({
        source: verdict.record.source,
        // The text the event was parsed from parses to the very value judged here.
        json: asReceived ? asReceived[index] : JSON.stringify(raw),
      });
      validIndex.push(index);
    }
    // Records of one source each (usage-records.ts), keyed by the source.
    const { records, tooLarge } = packUsageRecords(valid);
    const messages = records.map((r) => ({ key: r.key, value: r.value, timestamp }));
    let accepted = valid.length - tooLarge.length;
    for (const i of tooLarge) {
      const message = { key: valid[i].source, value: `[${valid[i].json}]`, timestamp };
      // Only possible with huge extension attributes: refused here rather than failing the batch.
      if (await this.kafka.fits(topic, message)) {
        messages.push(message);
        accepted++;
      } else
        reject(validIndex[i], events[validIndex[i]], [
          { field: '(event)', message: `the event is larger than ${topic} takes (max.message.bytes)` },
        ]);
    }
    rejected.sort((a, b) => a.index - b.index);
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
    this.metrics.eventsAccepted.inc(accepted);
    return { accepted, rejected };
  }
}
