import { Controller, Get, Logger, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import { exportResponse } from './dto/export.response';
import type { Response } from 'express';
import { Allow } from '../common/access';
import { InvoiceExportQueryDto, UsageExportQueryDto } from './dto/export-query.dto';
import { MetricsService } from '../platform/metrics/metrics.service';
import { streamExport } from './export-writer';
import { INVOICE_EXPORT_COLUMNS, INVOICE_EXPORT_TEXT, InvoiceExportService } from './invoice-export.service';
import { USAGE_EXPORT_COLUMNS, USAGE_EXPORT_TEXT, UsageExportService } from './usage-export.service';

/** Finance exports, streamed as CSV (default) or JSON Lines. Operator only. */
@ApiTags('exports')
@ApiBearerAuth()
@Controller('v1/exports')
export class ExportsController {
  private readonly logger = new Logger(ExportsController.name);

  constructor(
    private readonly usage: UsageExportService,
    private readonly invoices: InvoiceExportService,
    private readonly metrics: MetricsService,
  ) {}

  /** Streams one export, counting it in flight and how it ended. */
  private async stream(
    res: Response,
    name: 'usage' | 'invoices',
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

  @Get('usage')
  @Allow('operator')
  @ApiProduces('text/csv', 'application/x-ndjson')
  @ApiOkResponse(exportResponse(USAGE_EXPORT_COLUMNS, 'one rated usage record per line (jsonl)'))
  async usageExport(@Query() q: UsageExportQueryDto, @Res() res: Response): Promise<void> {
    const { fromMs, toMs } = this.usage.span(q.from, q.to);
    const name = `usage_${q.from.slice(0, 13)}_${q.to.slice(0, 13)}`.replace(/[^0-9A-Za-z_-]/g, '-');
    await this.stream(res, 'usage', {
      format: q.format ?? 'csv',
      filename: q.workspace_id ? `${name}_${q.workspace_id}` : name,
      columns: USAGE_EXPORT_COLUMNS,
      textColumns: USAGE_EXPORT_TEXT,
      batches: this.usage.records(fromMs, toMs, q.workspace_id),
    });
  }

  @Get('invoices')
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
}
