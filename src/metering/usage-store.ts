import { Injectable } from '@nestjs/common';
import { MetricsService } from '../platform/metrics/metrics.service';
import { UsageStoredSignal } from '../platform/usage-stored-signal';
import { MeteringConfig } from './metering.config';
import { StoreCoalescer } from './store-coalescer';
import { dedupeKey, StoredUsageEvent } from './usage-event-rows';
import { UsageEventsRepository } from './usage-events.repository';

/** A round after its lookup: the events to insert and their keys. */
interface Prepared {
  fresh: StoredUsageEvent[];
  keys: string[];
  startedAt: bigint;
}

/**
 * Stores each event once (the consumer's store rounds): slices that arrive together go into
 * one round (StoreCoalescer: at least CONSUMER_MAX_BATCH_EVENTS events, or after
 * CONSUMER_INSERT_LINGER_MILLISECONDS); rounds never overlap. A round drops copies of a key
 * seen earlier in it or in a round still being inserted, asks ClickHouse which keys it holds
 * already, and inserts the rest; `submit` resolves once the slice's events are stored.
 */
@Injectable()
export class UsageStore {
  private readonly coalescer: StoreCoalescer<StoredUsageEvent, Prepared>;
  /** Keys of events of a round whose insert is in flight (a lookup cannot see them yet). */
  private readonly writing = new Set<string>();
  /** Events of a fetch stored and committed together at most. */
  readonly maxEvents: number;

  constructor(
    config: MeteringConfig,
    private readonly usageEvents: UsageEventsRepository,
    private readonly metrics: MetricsService,
    private readonly usageStored: UsageStoredSignal,
  ) {
    this.maxEvents = config.CONSUMER_MAX_BATCH_EVENTS;
    this.coalescer = new StoreCoalescer(
      (events) => this.prepare(events),
      (prepared) => this.write(prepared),
      { minItems: config.CONSUMER_MAX_BATCH_EVENTS, lingerMs: config.CONSUMER_INSERT_LINGER_MILLISECONDS },
    );
  }

  /** Stores a slice's events (with the other slices of its round); resolves once they are. */
  submit(events: StoredUsageEvent[]): Promise<void> {
    return this.coalescer.submit(events);
  }

  /**
   * A round's first stage: the first copy of each key that is neither in ClickHouse nor in the
   * round being inserted. Its keys are then taken (`writing`) until its own insert ends.
   * Asked again on every attempt: an insert that timed out may still have landed.
   */
  private async prepare(events: StoredUsageEvent[]): Promise<Prepared> {
    const startedAt = process.hrtime.bigint();
    const firstCopies = new Map<string, StoredUsageEvent>();
    for (const e of events) {
      const key = dedupeKey(e);
      if (!firstCopies.has(key) && !this.writing.has(key)) firstCopies.set(key, e);
    }
    const copies = events.length - firstCopies.size;
    const candidates = [...firstCopies.values()];
    const stored = await this.usageEvents.findStoredKeys(candidates);
    const fresh: StoredUsageEvent[] = [];
    const keys: string[] = [];
    for (const [key, e] of firstCopies) {
      if (stored.has(key) || this.writing.has(key)) continue;
      fresh.push(e);
      keys.push(key);
    }
    for (const key of keys) this.writing.add(key);
    if (copies > 0) this.metrics.consumerDuplicates.inc({ where: 'batch' }, copies);
    if (stored.size > 0) this.metrics.consumerDuplicates.inc({ where: 'stored' }, stored.size);
    return { fresh, keys, startedAt };
  }

  /** A round's second stage: the insert (one at a time, in order; see StoreCoalescer). */
  private async write({ fresh, keys, startedAt }: Prepared): Promise<void> {
    try {
      await this.usageEvents.insert(fresh);
    } finally {
      // Stored, or failed: either way the lookup decides again (a failed round is retried).
      for (const key of keys) this.writing.delete(key);
    }
    this.usageStored.stored(new Set(fresh.map((e) => e.workspace_id)));
    this.metrics.consumerStored.inc(fresh.length);
    this.metrics.insertBatchSize.observe(fresh.length);
    this.metrics.insertSeconds.observe(Number(process.hrtime.bigint() - startedAt) / 1e9);
  }
}
