import { Module } from '@nestjs/common';
import { CatalogModule } from '../catalog/catalog.module';
import { InvoicingModule } from '../invoicing/invoicing.module';
import { MeteringModule } from '../metering/metering.module';
import { MarginReportService } from './margin-report.service';
import { ReportsController } from './reports.controller';

@Module({
  imports: [CatalogModule, MeteringModule, InvoicingModule],
  controllers: [ReportsController],
  providers: [MarginReportService],
  exports: [MarginReportService],
})
export class ReportsModule {}
