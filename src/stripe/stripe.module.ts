import { Module } from '@nestjs/common';
import { provideBillingEvents } from '../platform/billing-events/provide-billing-events';
import { STRIPE_EVENTS } from './stripe-events';
import { StripeApiService } from './stripe-api.service';
import { StripeCustomersRepository } from './stripe-customers.repository';
import { StripeInvoicePusher } from './stripe-invoice-pusher.service';
import { StripeWebhooksController } from './stripe-webhooks.controller';

@Module({
  controllers: [StripeWebhooksController],
  providers: [
    StripeApiService,
    StripeCustomersRepository,
    StripeInvoicePusher,
    provideBillingEvents(STRIPE_EVENTS),
  ],
  exports: [StripeApiService, StripeInvoicePusher],
})
export class StripeModule {}
