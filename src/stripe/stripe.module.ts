import { Module } from '@nestjs/common';
import { StripeApiService } from './stripe-api.service';
import { StripeCustomersRepository } from './stripe-customers.repository';
import { StripeInvoicePusher } from './stripe-invoice-pusher.service';
import { StripeWebhooksController } from './stripe-webhooks.controller';

@Module({
  controllers: [StripeWebhooksController],
  providers: [StripeApiService, StripeCustomersRepository, StripeInvoicePusher],
  exports: [StripeApiService, StripeInvoicePusher],
})
export class StripeModule {}
