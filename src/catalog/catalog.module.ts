import { Module } from '@nestjs/common';
import { provideBillingEvents } from '../platform/billing-events/provide-billing-events';
import { CATALOG_EVENTS } from './catalog-events';
import { CatalogController } from './catalog.controller';
import { CatalogRepository } from './catalog.repository';
import { CatalogService } from './catalog.service';

@Module({
  controllers: [CatalogController],
  providers: [CatalogRepository, CatalogService, provideBillingEvents(CATALOG_EVENTS)],
  exports: [CatalogService],
})
export class CatalogModule {}
