import { Module } from '@nestjs/common';
import { CatalogModule } from '../catalog/catalog.module';
import { InvoicingModule } from '../invoicing/invoicing.module';
import { MeteringModule } from '../metering/metering.module';
import { WorkspacesModule } from '../workspaces/workspaces.module';
import { ExportsController } from './exports.controller';
import { InvoiceExportService } from './invoice-export.service';
import { LineEventsExportService } from './line-events-export.service';
import { UsageExportService } from './usage-export.service';
import { MarginExportService } from './margin-export.service';
import { ReportsModule } from '../reports/reports.module';

@Module({
  imports: [CatalogModule, MeteringModule, InvoicingModule, WorkspacesModule, ReportsModule],
  controllers: [ExportsController],
  providers: [UsageExportService, InvoiceExportService, LineEventsExportService, MarginExportService],
})
export class ExportsModule {}
