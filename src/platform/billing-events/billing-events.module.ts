import { Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { BillingEventsRepository } from './billing-events.repository';
import { BillingEventsService } from './billing-events.service';
import { BillingEventsConsumer } from './billing-events-consumer.service';

/**
 * billing.events.v1: publishing, the raw event log, and the projections. Domain modules
 * provide their event types (provideBillingEvents) and their projections
 * (BillingEventProjection); the service discovers both at start-up.
 */
@Global()
@Module({
  imports: [DiscoveryModule],
  providers: [BillingEventsRepository, BillingEventsService, BillingEventsConsumer],
  exports: [BillingEventsService, BillingEventsConsumer],
})
export class BillingEventsModule {}
