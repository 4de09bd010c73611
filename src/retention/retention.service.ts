import { Clock } from '../platform/clock';
import { IngestionConfig } from '../ingestion/ingestion.config';
import { KafkaConfig } from '../platform/kafka/kafka.config';
import { RetentionConfig } from './retention.config';
import { Injectable, Logger } from '@nestjs/common';
import { CatalogService } from '../catalog/catalog.service';
import { HOUR_MS } from '../common/time';
import { BillingPeriod } from '../invoicing/billing-period';
import { InvoicesRepository } from '../invoicing/invoices.repository';
import { monthLabel, monthNumber, priceCuts, splitHours } from '../metering/price-split-hours';
import { UsageEventsRepository } from '../metering/usage-events.repository';
import { UsageRetirementsRepository } from '../metering/usage-retirements.repository';
import { usageSumsMismatches, UsageRollupsRepository } from '../metering/usage-rollups.repository';
import { KafkaAdmin } from '../platform/kafka/kafka-admin';
import { planRetention, readBeforeRetiring } from './retention-plan';

/** What one run did (or, dry, would do) with a closed month. */
export interface MonthOutcome {
  period: string;
  outcome: 'retired' | 'would-retire' | 'already-retired' | 'kept' | 'waiting' | 'refused';
  detail: string;
  events?: string; // raw events dropped (retired now)
  gpu_ms?: string;
}

/** Thrown when a month must not be retired as it stands; nothing of it was dropped. */
class RetirementRefused extends Error {}

/**
 * Raw event retention: drops a closed month's raw usage events once they are
 * RAW_EVENT_RETENTION_DAYS old, after keeping what readers still need of them (see
 * ./README.md). Safe to repeat and to kill at any point: a month is retired only by its
 * record, written after everything it keeps was written and checked; its partition is
 * dropped after that, and dropped again by the next run if a crash came between.
 */
@Injectable()
export class RetentionService {
  private readonly logger = new Logger(RetentionService.name);

  constructor(
    private readonly ingestion: IngestionConfig,
    private readonly kafkaConfig: KafkaConfig,
    private readonly retentionConfig: RetentionConfig,
    private readonly kafka: KafkaAdmin,
    private readonly invoices: InvoicesRepository,
    private readonly catalogs: CatalogService,
    private readonly events: UsageEventsRepository,
    private readonly rollups: UsageRollupsRepository,
    private readonly retirements: UsageRetirementsRepository,
    private readonly clock: Clock,
  ) {}

  async run(options: { dryRun: boolean; nowMs?: number }): Promise<MonthOutcome[]> {
    const retentionDays = this.retentionConfig.RAW_EVENT_RETENTION_DAYS;
    if (retentionDays === undefined)
      throw new Error('RAW_EVENT_RETENTION_DAYS is not set: raw events are kept');
    const nowMs = options.nowMs ?? this.clock.now();
    const closed = [...(await this.invoices.closedPeriods())].map((p) => BillingPeriod.parse(p)!);
    const retired = await this.retirements.retired();
    const plan = planRetention({
      closed,
      retiredMonths: new Set([...retired.keys()].map(monthLabel)),
      retentionDays,
      nowMs,
    });
    const outcomes: MonthOutcome[] = [];
    for (const decision of plan) {
      const period = decision.period;
      const name = period.toString();
      if (decision.action === 'keep') {
        outcomes.push({
          period: name,
          outcome: 'kept',
          detail: `raw events kept until ${new Date(decision.untilMs).toISOString()}`,
        });
      } else if (decision.action === 'retired') {
        // A crash between a month's record and its drop left the partition: drop it now.
        const left = await this.events.countEndedIn(period.startMs, period.endMs);
        if (left > 0n && !options.dryRun) await this.retirements.dropRawEvents(monthNumber(period.startMs));
        outcomes.push({
          period: name,
          outcome: 'already-retired',
          detail:
            left > 0n
              ? `${left} raw events were left by an interrupted run: ${options.dryRun ? 'would drop' : 'dropped'} them`
              : 'raw events dropped earlier',
        });
      } else {
        outcomes.push(await this.retireIfRead(period, options.dryRun));
      }
    }
    return outcomes;
  }

  /** Retires the month once the usage consumer group has read every record it could be in. */
  private async retireIfRead(period: BillingPeriod, dryRun: boolean): Promise<MonthOutcome> {
    const name = period.toString();
    const readTo = readBeforeRetiring(period, this.ingestion.EVENT_MAX_AGE_DAYS);
    const behind = await this.kafka.partitionsNotReadTo(
      this.kafkaConfig.KAFKA_CONSUMER_GROUP,
      this.kafka.topics.usageEvents,
      readTo,
    );
    if (behind.length > 0)
      return {
        period: name,
        outcome: 'waiting',
        detail: `consumer group ${this.kafkaConfig.KAFKA_CONSUMER_GROUP} has not yet read every record of ${this.kafka.topics.usageEvents} written before ${new Date(readTo).toISOString()} (an event of the month could still be in one): ${behind
          .map((b) => `partition ${b.partition} at ${b.committed}, needs ${b.needed}`)
          .join('; ')}`,
      };
    if (dryRun)
      return {
        period: name,
        outcome: 'would-retire',
        detail: 'old enough, closed, and read by the consumer',
      };
    try {
      const dropped = await this.retire(period);
      return {
        period: name,
        outcome: 'retired',
        detail: 'raw events dropped; rollups, price-cut pieces and totals kept',
        events: dropped.events.toString(),
        gpu_ms: dropped.gpu_ms.toString(),
      };
    } catch (e) {
      if (!(e instanceof RetirementRefused)) throw e;
      this.logger.error(`raw event retention refused ${name}: ${e.message}`);
      return { period: name, outcome: 'refused', detail: e.message };
    }
  }

  /**
   * Keeps what readers need of the month, checks it, records the month as retired, then
   * drops its partition. Refuses (nothing dropped) where the month's data is not whole.
   */
  private async retire(period: BillingPeriod): Promise<{ events: bigint; gpu_ms: bigint }> {
    const month = monthNumber(period.startMs);
    const [fromMs, toMs] = [period.startMs, period.endMs];
    const strays = await this.events.countInPartitionOutside(month, fromMs, toMs);
    if (strays > 0n)
      throw new RetirementRefused(
        `partition ${month} of usage_events holds ${strays} events that ended outside ${period.toString()} in UTC: a ClickHouse server's time zone is not UTC, and dropping the partition would drop another month's events`,
      );
    const duplicates = await this.events.duplicateKeys(1, fromMs, toMs + HOUR_MS);
    if (duplicates.length > 0)
      throw new RetirementRefused(
        `usage event ${duplicates[0].source} ${duplicates[0].id} is stored ${duplicates[0].copies} times: reconcile the month first`,
      );
    const raw = await this.rollups.rawTotals(fromMs, toMs);
    const rollupMismatches = usageSumsMismatches(raw, await this.rollups.hourlyTotals(fromMs, toMs));
    if (rollupMismatches.length > 0)
      throw new RetirementRefused(
        `the hourly rollups of ${rollupMismatches[0].workspace_id} disagree with its raw events (${rollupMismatches[0].found} vs ${rollupMismatches[0].expected}): reconcile the month first`,
      );
    const catalog = await this.catalogs.load();
    const split = splitHours(catalog.segments(fromMs, toMs).map((s) => s.from_ms));

    await this.retirements.clearUnfinished(month);
    await this.retirements.writeTotals(month, raw);
    await this.retirements.writePieces(month, split);
    const recorded = usageSumsMismatches(raw, await this.retirements.recordedTotals(month));
    const pieces = await this.retirements.piecesBothWays(month, split);
    if (recorded.length > 0 || JSON.stringify(pieces.raw) !== JSON.stringify(pieces.stored))
      throw new RetirementRefused(
        `what was kept of ${period.toString()} does not read back as written (${recorded.length} workspace totals, ${pieces.stored.length} of ${pieces.raw.length} price-cut pieces): nothing dropped; run again`,
      );

    const totals = {
      events: raw.reduce((a, r) => a + BigInt(r.events), 0n),
      gpu_ms: raw.reduce((a, r) => a + BigInt(r.gpu_ms), 0n),
    };
    await this.retirements.markRetired(month, priceCuts(split), totals);
    await this.retirements.dropRawEvents(month);
    this.logger.log(
      `raw event retention: ${period.toString()} retired (${totals.events} events, ${split.length} price-cut hours kept as pieces)`,
    );
    return totals;
  }
}
