import { KafkaMessage } from 'kafkajs';
import { DAY_MS } from '../common/time';
import { describeError } from '../platform/errors/describe-error';
import { parseUntrustedJson } from '../platform/json/untrusted-json';
import { DeadLetter } from '../platform/kafka/dead-letter';
import { TimeWindow, validateUsageEvent } from '../ingestion/usage-event/usage-event.validator';
import { StoredUsageEvent } from './usage-event-rows';
import { monthLabel, monthNumber } from './price-split-hours';

/**
 * Events that ended before this may be in a retired month: before the current month (UTC),
 * and more than a day ago (a month is retired days after it ends at the earliest:
 * RAW_EVENT_RETENTION_DAYS > EVENT_MAX_AGE_DAYS + 1). Live traffic is newer, so the check
 * costs it nothing.
 */
function agedBefore(nowMs: number): number {
  const d = new Date(nowMs);
  return Math.min(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1), nowMs - DAY_MS);
}

/** An event read in a partition that is not its source's (see sendToTheirPartitions). */
export interface MisroutedEvent {
  json: string;
  source: string;
  message: KafkaMessage;
  partition: number;
}

/** A valid event that ended before the current month: its month may be retired. */
export interface AgedEvent {
  event: StoredUsageEvent;
  value: unknown;
  message: KafkaMessage;
  partition: number;
  index?: number;
}

export interface Decoded {
  events: StoredUsageEvent[];
  deadLetters: UsageDeadLetter[];
  misrouted: MisroutedEvent[];
  aged: AgedEvent[];
}

export interface UsageDeadLetter extends DeadLetter {
  /**
   * invalid-json: not JSON (or nested too deep); invalid-event: breaks contract §1;
   * unprocessable: our code failed on it; retired-period: its month's raw events were
   * dropped (src/retention), so a copy could not be told from a new event.
   */
  reason: 'invalid-json' | 'invalid-event' | 'unprocessable' | 'retired-period';
}

/**
 * Usage records as the consumer reads them, decoded (pure: no I/O, `nowMs` given): each event
 * validated (contract §1) and stored, dead-lettered with its reason, set aside for its
 * source's partition (`partitionOfSource`: rerouting; absent in a replay), or marked aged
 * (its month may be retired).
 */
export class UsageRecordDecoder {
  constructor(
    private readonly window: TimeWindow,
    private readonly partitionOfSource?: (source: string) => number,
  ) {}

  /**
   * Splits messages into events to store, dead letters and events of another partition.
   * Never throws, whatever the bytes: a record that made any step here fail is dead-lettered
   * as `unprocessable`, so one record can never stop its partition.
   */
  decode(messages: KafkaMessage[], partition: number, nowMs: number): Decoded {
    return this.decodeSlice(messages, 0, partition, nowMs, Infinity).slice;
  }

  /** Decodes records from `start` until the slice holds `maxEvents` events or none are left. */
  decodeSlice(
    messages: readonly KafkaMessage[],
    start: number,
    partition: number,
    nowMs: number,
    maxEvents: number,
  ): { slice: Decoded; end: number } {
    const slice: Decoded = { events: [], deadLetters: [], misrouted: [], aged: [] };
    const agedBeforeMs = agedBefore(nowMs);
    let end = start;
    while (end < messages.length && slice.events.length < maxEvents)
      this.decodeInto(messages[end++], partition, slice, agedBeforeMs);
    return { slice, end };
  }

  /**
   * One record: a usage event (JSON object) or a batch of them (JSON array). Each event of a
   * batch is judged on its own: an invalid one is dead-lettered alone (its bytes, its index),
   * the others are stored.
   */
  private decodeInto(message: KafkaMessage, partition: number, into: Decoded, agedBeforeMs: number): void {
    const before = {
      events: into.events.length,
      deadLetters: into.deadLetters.length,
      misrouted: into.misrouted.length,
      aged: into.aged.length,
    };
    try {
      const parsed = parseUntrustedJson(message.value);
      if (!parsed.ok) {
        into.deadLetters.push({ message, partition, reason: 'invalid-json', detail: parsed.detail });
        return;
      }
      if (!Array.isArray(parsed.value)) {
        this.decodeEvent(parsed.value, message, partition, undefined, into, agedBeforeMs);
        return;
      }
      if (parsed.value.length === 0) {
        into.deadLetters.push({ message, partition, reason: 'invalid-event', detail: 'an empty batch' });
        return;
      }
      for (let i = 0; i < parsed.value.length; i++)
        this.decodeEvent(parsed.value[i], message, partition, i, into, agedBeforeMs);
    } catch (e) {
      // Nothing of a record that made decoding fail is kept: all of it goes to the DLQ.
      into.events.length = before.events;
      into.deadLetters.length = before.deadLetters;
      into.misrouted.length = before.misrouted;
      into.aged.length = before.aged;
      into.deadLetters.push({ message, partition, reason: 'unprocessable', detail: describeError(e) });
    }
  }

  private decodeEvent(
    value: unknown,
    message: KafkaMessage,
    partition: number,
    index: number | undefined,
    into: Decoded,
    agedBeforeMs: number,
  ): void {
    const ingestedAtMs = Number(message.timestamp);
    const verdict = validateUsageEvent(value, ingestedAtMs, this.window);
    if (!verdict.ok) {
      into.deadLetters.push({
        message: index === undefined ? message : { ...message, value: Buffer.from(JSON.stringify(value)) },
        partition,
        index,
        reason: 'invalid-event',
        detail: verdict.errors.map((e) => e.message).join('; '),
      });
      return;
    }
    const record = verdict.record;
    if (this.partitionOfSource && this.partitionOfSource(record.source) !== partition) {
      into.misrouted.push({
        json: JSON.stringify(value),
        source: record.source,
        message,
        partition,
      });
      return;
    }
    // The verdict's record is fresh: extend it in place rather than copy it (hot path).
    const stored = record as StoredUsageEvent;
    stored.ingested_at_ms = ingestedAtMs;
    stored.kafka_partition = partition;
    stored.kafka_offset = Number(message.offset);
    into.events.push(stored);
    if (stored.ended_at_ms < agedBeforeMs)
      into.aged.push({ event: stored, value, message, partition, index });
  }
}

/**
 * Takes out of the slice the events of retired months and dead-letters them: their raw
 * events are dropped, so the dedupe lookup cannot find a copy there, and storing it could
 * count it twice (its month's invoice is final; the DLQ keeps it for a person to judge).
 * Retirement also waits until the group has read past every record that could carry an
 * event of the month (src/retention), so this only catches what slipped past that.
 */
export function setAsideRetired(slice: Decoded, retired: ReadonlySet<number>): void {
  if (retired.size === 0) return;
  const out = new Set<StoredUsageEvent>();
  for (const a of slice.aged) {
    const month = monthNumber(a.event.ended_at_ms);
    if (!retired.has(month)) continue;
    out.add(a.event);
    slice.deadLetters.push({
      message:
        a.index === undefined ? a.message : { ...a.message, value: Buffer.from(JSON.stringify(a.value)) },
      partition: a.partition,
      index: a.index,
      reason: 'retired-period',
      detail: `data.ended_at falls in ${monthLabel(month)}, whose raw events were dropped after it was invoiced (raw event retention): a copy could not be told from a new event, so it is not stored`,
    });
  }
  slice.events = slice.events.filter((e) => !out.has(e));
  slice.aged = [];
}
