import { Module } from '@nestjs/common';
import { CatalogModule } from '../catalog/catalog.module';
import { InvoicingModule } from '../invoicing/invoicing.module';
import { MeteringModule } from '../metering/metering.module';
import { WorkspacesModule } from '../workspaces/workspaces.module';
import { ExportsController } from './exports.controller';
import { InvoiceExportService } from './invoice-export.service';
import { LineEventsExportService } from './line-events-export.service';
import { UsageExportService } from './usage-export.service';

@Module({
  imports: [CatalogModule, MeteringModule, InvoicingModule, WorkspacesModule],
  controllers: [ExportsController],
  providers: [UsageExportService, InvoiceExportService, LineEventsExportService],
})
export class ExportsModule {}
