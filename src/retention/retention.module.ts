import { Module } from '@nestjs/common';
import { CatalogModule } from '../catalog/catalog.module';
import { InvoicingModule } from '../invoicing/invoicing.module';
import { MeteringModule } from '../metering/metering.module';
import { RetentionScheduler } from './retention-scheduler.service';
import { RetentionService } from './retention.service';

@Module({
  imports: [MeteringModule, InvoicingModule, CatalogModule],
  providers: [RetentionService, RetentionScheduler],
  exports: [RetentionService, RetentionScheduler],
})
export class RetentionModule {}
