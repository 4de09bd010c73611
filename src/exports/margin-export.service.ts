import { Injectable } from '@nestjs/common';
import { BillingPeriod } from '../invoicing/billing-period';
import { DEFAULT_MARGIN_GROUP_BY, MarginGroupKey, MarginRow } from '../reports/margin';
import { MarginReportService } from '../reports/margin-report.service';
import { ExportRecord } from './export-writer';

export const MARGIN_EXPORT_COLUMNS = [
  'period',
  'row',
  'provider',
  'gpu_type',
  'region',
  'gpu_seconds',
  'core_seconds',
  'gib_seconds',
  'revenue_list',
  'credits',
  'revenue',
  'cost',
  'margin',
  'margin_percent',
  'uncovered_gpu_seconds',
  'uncovered_core_seconds',
  'uncovered_gib_seconds',
  'uncovered_revenue_list',
  'uncovered_credits',
  'uncovered_revenue',
  'uncovered_reasons',
] as const;
/** Provider and region names come from agents: guarded in CSV. */
export const MARGIN_EXPORT_TEXT = new Set(['provider', 'gpu_type', 'region']);

/**
 * GET /v1/exports/margin: the margin report (src/reports) as records, one per group and a
 * last one (`row` total) for the month; the same figures as GET /v1/reports/margin.
 */
@Injectable()
export class MarginExportService {
  constructor(private readonly margins: MarginReportService) {}

  async *records(period: string, groupBy?: readonly MarginGroupKey[]): AsyncGenerator<ExportRecord[]> {
    const report = await this.margins.report(
      BillingPeriod.parse(period)!,
      groupBy ?? DEFAULT_MARGIN_GROUP_BY,
    );
    const record = (kind: 'group' | 'total', r: Omit<MarginRow, MarginGroupKey> & Partial<MarginRow>) => ({
      period: report.period,
      row: kind,
      provider: r.provider ?? '',
      gpu_type: r.gpu_type ?? '',
      region: r.region ?? '',
      gpu_seconds: r.gpu_seconds,
      core_seconds: r.core_seconds,
      gib_seconds: r.gib_seconds,
      revenue_list: r.revenue_list,
      credits: r.credits,
      revenue: r.revenue,
      cost: r.cost,
      margin: r.margin,
      margin_percent: r.margin_percent ?? '',
      uncovered_gpu_seconds: r.uncovered?.gpu_seconds ?? '0',
      uncovered_core_seconds: r.uncovered?.core_seconds ?? '0',
      uncovered_gib_seconds: r.uncovered?.gib_seconds ?? '0',
      uncovered_revenue_list: r.uncovered?.revenue_list ?? '0.00',
      uncovered_credits: r.uncovered?.credits ?? '0.00',
      uncovered_revenue: r.uncovered?.revenue ?? '0.00',
      uncovered_reasons: (r.uncovered?.reasons ?? []).join(' '),
    });
    yield [...report.rows.map((r) => record('group', r)), record('total', report.totals)];
  }
}
