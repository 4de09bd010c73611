import { Global, Module } from '@nestjs/common';
import { BillingEventsRepository } from './billing-events.repository';
import { BillingEventsService } from './billing-events.service';

/** billing.events.v1: publishing, the raw event log, and the projections domain modules register. */
@Global()
@Module({
  providers: [BillingEventsRepository, BillingEventsService],
  exports: [BillingEventsService],
})
export class BillingEventsModule {}
