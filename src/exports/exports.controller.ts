import { Controller, Get, Logger, Param, Query, Req, Res } from '@nestjs/common';
import type { AuthenticatedRequest } from '../auth/auth.guard';
import { scopeWorkspace } from '../auth/principal';
import { ApiError } from '../common/api-error';
import { DAY_MS } from '../common/time';
import { ApiBearerAuth, ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import { exportResponse } from './dto/export.response';
import type { Response } from 'express';
import { Allow } from '../common/access';
import {
  InvoiceExportQueryDto,
  LineEventsQueryDto,
  MarginExportQueryDto,
  UsageExportQueryDto,
} from './dto/export-query.dto';
import { MARGIN_EXPORT_COLUMNS, MARGIN_EXPORT_TEXT, MarginExportService } from './margin-export.service';
import { LINE_EVENT_COLUMNS, LINE_EVENT_TEXT, LineEventsExportService } from './line-events-export.service';
import { MetricsService } from '../platform/metrics/metrics.service';
import { streamExport } from './export-writer';
import { INVOICE_EXPORT_COLUMNS, INVOICE_EXPORT_TEXT, InvoiceExportService } from './invoice-export.service';
import { USAGE_EXPORT_COLUMNS, USAGE_EXPORT_TEXT, UsageExportService } from './usage-export.service';

/** A workspace key's usage export spans at most this many days (a month and then some; a quarter). */
export const MAX_WORKSPACE_EXPORT_DAYS = 92;

/**
 * Finance exports, streamed as CSV (default) or JSON Lines: the operator's, a workspace's own
 * usage, and the events behind an invoice line.
 */
@ApiTags('exports')
@ApiBearerAuth()
@Controller('v1')
export class ExportsController {
  private readonly logger = new Logger(ExportsController.name);

  constructor(
    private readonly usage: UsageExportService,
    private readonly invoices: InvoiceExportService,
    private readonly lineEvents: LineEventsExportService,
    private readonly margins: MarginExportService,
    private readonly metrics: MetricsService,
  ) {}

  /** Streams one export, counting it in flight and how it ended. */
  private async stream(
    res: Response,
    name: 'usage' | 'invoices' | 'line-events' | 'margin',
    options: Omit<Parameters<typeof streamExport>[1], 'onError' | 'onAbandoned'>,
  ): Promise<void> {
    let outcome = 'complete';
    this.metrics.exportsInFlight.inc({ export: name });
    try {
      await streamExport(res, {
        ...options,
        onError: (err) => {
          outcome = 'failed';
          this.logger.error(`${name} export stopped: ${err.message}`);
        },
        onAbandoned: () => (outcome = 'abandoned'),
      });
    } finally {
      this.metrics.exportsInFlight.dec({ export: name });
      this.metrics.exportsEnded.inc({ export: name, outcome });
    }
  }

  /**
   * The operator exports every workspace or one; a workspace key exports its own usage only
   * (naming another workspace is a 404, as if it did not exist) and at most
   * MAX_WORKSPACE_EXPORT_DAYS at a time (the dashboard's download).
   */
  @Get('exports/usage')
  @Allow('operator', 'workspace')
  @ApiProduces('text/csv', 'application/x-ndjson')
  @ApiOkResponse(exportResponse(USAGE_EXPORT_COLUMNS, 'one rated usage record per line (jsonl)'))
  async usageExport(
    @Query() q: UsageExportQueryDto,
    @Req() req: AuthenticatedRequest,
    @Res() res: Response,
  ): Promise<void> {
    const { fromMs, toMs } = this.usage.span(q.from, q.to);
    const workspaceId =
      req.principal.kind === 'workspace' ? scopeWorkspace(req.principal, q.workspace_id) : q.workspace_id;
    if (req.principal.kind === 'workspace' && toMs - fromMs > MAX_WORKSPACE_EXPORT_DAYS * DAY_MS)
      throw ApiError.invalid('to', `a workspace exports at most ${MAX_WORKSPACE_EXPORT_DAYS} days at a time`);
    const name = `usage_${q.from.slice(0, 13)}_${q.to.slice(0, 13)}`.replace(/[^0-9A-Za-z_-]/g, '-');
    await this.stream(res, 'usage', {
      format: q.format ?? 'csv',
      filename: workspaceId ? `${name}_${workspaceId}` : name,
      columns: USAGE_EXPORT_COLUMNS,
      textColumns: USAGE_EXPORT_TEXT,
      batches: this.usage.records(fromMs, toMs, workspaceId),
    });
  }

  @Get('exports/invoices')
  @Allow('operator')
  @ApiProduces('text/csv', 'application/x-ndjson')
  @ApiOkResponse(exportResponse(INVOICE_EXPORT_COLUMNS, 'one invoice line per line (jsonl)'))
  async invoiceExport(@Query() q: InvoiceExportQueryDto, @Res() res: Response): Promise<void> {
    await this.stream(res, 'invoices', {
      format: q.format ?? 'csv',
      filename: q.workspace_id ? `invoices_${q.period}_${q.workspace_id}` : `invoices_${q.period}`,
      columns: INVOICE_EXPORT_COLUMNS,
      textColumns: INVOICE_EXPORT_TEXT,
      batches: this.invoices.records(q.period, q.workspace_id),
    });
  }

  /** The margin report (GET /v1/reports/margin) as records: one per group, then the month's total. */
  @Get('exports/margin')
  @Allow('operator')
  @ApiProduces('text/csv', 'application/x-ndjson')
  @ApiOkResponse(exportResponse(MARGIN_EXPORT_COLUMNS, 'one group per line, then the total (jsonl)'))
  async marginExport(@Query() q: MarginExportQueryDto, @Res() res: Response): Promise<void> {
    await this.stream(res, 'margin', {
      format: q.format ?? 'csv',
      filename: `margin_${q.period}`,
      columns: MARGIN_EXPORT_COLUMNS,
      textColumns: MARGIN_EXPORT_TEXT,
      batches: this.margins.records(q.period, q.group_by),
    });
  }

  /**
   * The events behind a usage line of a finalized invoice (line tracing): the operator's, or
   * the invoice's workspace's (another workspace's invoice: 404). Their quantities add up to
   * the line's exactly.
   */
  @Get('invoices/:id/lines/:lineId/events')
  @Allow('operator', 'workspace')
  @ApiProduces('text/csv', 'application/x-ndjson')
  @ApiOkResponse(
    exportResponse(LINE_EVENT_COLUMNS, 'one event (or its part in one price piece) per line (jsonl)'),
  )
  async lineEventsExport(
    @Param('id') id: string,
    @Param('lineId') lineId: string,
    @Query() q: LineEventsQueryDto,
    @Req() req: AuthenticatedRequest,
    @Res() res: Response,
  ): Promise<void> {
    const workspaceId =
      req.principal.kind === 'workspace' ? scopeWorkspace(req.principal, undefined) : undefined;
    const found = await this.lineEvents.line(id, lineId, workspaceId);
    await this.stream(res, 'line-events', {
      format: q.format ?? 'csv',
      filename: `${lineId.replace(/[^0-9A-Za-z_-]/g, '-')}_events`,
      columns: LINE_EVENT_COLUMNS,
      textColumns: LINE_EVENT_TEXT,
      batches: this.lineEvents.records(found),
    });
  }
}
