import { Controller, Get, Logger, Query, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Allow, AuthGuard } from '../workspaces/auth.guard';
import { InvoiceExportQueryDto, UsageExportQueryDto } from './dto/export-query.dto';
import { streamExport } from './export-writer';
import { INVOICE_EXPORT_COLUMNS, INVOICE_EXPORT_TEXT, InvoiceExportService } from './invoice-export.service';
import { USAGE_EXPORT_COLUMNS, USAGE_EXPORT_TEXT, UsageExportService } from './usage-export.service';

/** Finance exports, streamed as CSV (default) or JSON Lines. Operator only. */
@ApiTags('exports')
@ApiBearerAuth()
@UseGuards(AuthGuard)
@Controller('v1/exports')
export class ExportsController {
  private readonly logger = new Logger(ExportsController.name);

  constructor(
    private readonly usage: UsageExportService,
    private readonly invoices: InvoiceExportService,
  ) {}

  @Get('usage')
  @Allow('operator')
  @ApiProduces('text/csv', 'application/x-ndjson')
  async usageExport(@Query() q: UsageExportQueryDto, @Res() res: Response): Promise<void> {
    const { fromMs, toMs } = this.usage.span(q.from, q.to);
    const name = `usage_${q.from.slice(0, 13)}_${q.to.slice(0, 13)}`.replace(/[^0-9A-Za-z_-]/g, '-');
    await streamExport(res, {
      format: q.format ?? 'csv',
      filename: q.workspace_id ? `${name}_${q.workspace_id}` : name,
      columns: USAGE_EXPORT_COLUMNS,
      textColumns: USAGE_EXPORT_TEXT,
      batches: this.usage.records(fromMs, toMs, q.workspace_id),
      onError: (err) => this.logger.error(`usage export stopped: ${err.message}`),
    });
  }

  @Get('invoices')
  @Allow('operator')
  @ApiProduces('text/csv', 'application/x-ndjson')
  async invoiceExport(@Query() q: InvoiceExportQueryDto, @Res() res: Response): Promise<void> {
    await streamExport(res, {
      format: q.format ?? 'csv',
      filename: q.workspace_id ? `invoices_${q.period}_${q.workspace_id}` : `invoices_${q.period}`,
      columns: INVOICE_EXPORT_COLUMNS,
      textColumns: INVOICE_EXPORT_TEXT,
      batches: this.invoices.records(q.period, q.workspace_id),
      onError: (err) => this.logger.error(`invoice export stopped: ${err.message}`),
    });
  }
}
