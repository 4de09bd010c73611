import { Clock } from '../platform/clock';
import { Injectable } from '@nestjs/common';
import { CatalogService } from '../catalog/catalog.service';
import { ApiError, ApiErrorCode } from '../common/api-error';
import { BillingPeriod } from '../invoicing/billing-period';
import { InvoiceCalculator } from '../invoicing/invoice-calculator.service';
import { monthNumber } from '../metering/price-split-hours';
import { UsageEventsRepository } from '../metering/usage-events.repository';
import { UsageRetirementsRepository } from '../metering/usage-retirements.repository';
import { MarginGroupKey, marginReport, MarginReport } from './margin';

/**
 * Margin by provider (issue 15; ./README.md): a month's usage from its raw events (the only
 * place the provider is kept), rated at the list prices and costed at the cost catalog, with
 * each workspace's credits for the month spread over its usage.
 */
@Injectable()
export class MarginReportService {
  constructor(
    private readonly catalogs: CatalogService,
    private readonly events: UsageEventsRepository,
    private readonly retirements: UsageRetirementsRepository,
    private readonly calculator: InvoiceCalculator,
    private readonly clock: Clock,
  ) {}

  async report(
    period: BillingPeriod,
    groupBy: readonly MarginGroupKey[],
    nowMs = this.clock.now(),
  ): Promise<MarginReport & { period: string; group_by: MarginGroupKey[]; currency: 'usd'; as_of: string }> {
    if (period.startMs > nowMs) throw ApiError.invalid('period', 'period must not be a month to come');
    if ((await this.retirements.retired([monthNumber(period.startMs)])).size > 0)
      throw new ApiError(
        ApiErrorCode.Gone,
        `the raw usage events of ${period.toString()} were dropped by retention (RAW_EVENT_RETENTION_DAYS): its usage by provider is gone`,
      );
    const [prices, costs] = await Promise.all([this.catalogs.load(), this.catalogs.loadCosts()]);
    // The month cut at every price change and every cost change inside it: each piece is
    // rated and costed at one set of prices and costs.
    const cuts = [
      ...new Set([
        ...prices.segments(period.startMs, period.endMs).map((s) => s.from_ms),
        ...costs.cutsWithin(period.startMs, period.endMs),
      ]),
    ].sort((a, b) => a - b);
    const pieces = cuts.map((fromMs, i) => ({ fromMs, toMs: cuts[i + 1] ?? period.endMs }));
    const [rows, credits] = await Promise.all([
      this.events.sumByProvider(pieces),
      this.calculator.creditsForMonth(period, nowMs),
    ]);
    const report = marginReport({
      pieces,
      usage: rows.map((r) => ({
        piece: Number(r.piece_index),
        workspace_id: r.workspace_id,
        provider: r.provider,
        gpu_type: r.gpu_type,
        region: r.region,
        gpu_ms: BigInt(r.gpu_ms),
        cpu_millicore_ms: BigInt(r.cpu_millicore_ms),
        memory_mib_ms: BigInt(r.memory_mib_ms),
      })),
      prices,
      costs,
      credits,
      groupBy,
    });
    return {
      period: period.toString(),
      group_by: [...groupBy],
      currency: 'usd',
      as_of: new Date(nowMs).toISOString(),
      ...report,
    };
  }
}
