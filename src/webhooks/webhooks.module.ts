import { Module } from '@nestjs/common';
import { WebhookDeliveryLog } from './webhook-delivery-log.service';
import { WebhookSender } from './webhook-sender.service';
import { provideBillingEvents } from '../platform/billing-events/provide-billing-events';
import { WEBHOOK_EVENTS } from './webhook-events';
import { InvoicingModule } from '../invoicing/invoicing.module';
import { WorkspacesModule } from '../workspaces/workspaces.module';
import { WebhookDispatcher } from './webhook-dispatcher.service';
import { WebhookEndpointsService } from './webhook-endpoints.service';
import { WebhookProjection } from './webhook.projection';
import { WebhooksController } from './webhooks.controller';
import { WebhooksRepository } from './webhooks.repository';

/** Outgoing webhooks: endpoints, messages and their delivery (contract §5). */
@Module({
  imports: [WorkspacesModule, InvoicingModule],
  controllers: [WebhooksController],
  providers: [
    WebhooksRepository,
    WebhookProjection,
    WebhookEndpointsService,
    WebhookDispatcher,
    WebhookSender,
    WebhookDeliveryLog,
    provideBillingEvents(WEBHOOK_EVENTS),
  ],
  exports: [WebhookDispatcher, WebhookEndpointsService],
})
export class WebhooksModule {}
