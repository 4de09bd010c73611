import { Injectable } from '@nestjs/common';
import { BillingEvent, HandledBy, ProjectionOf } from '../platform/billing-events/billing-event';
import { AttemptedData, MessageCreatedData } from './webhook-events';
import { EndpointChangeRow, WebhooksRepository } from './webhooks.repository';

const Base = ProjectionOf(
  'webhook_endpoint.created',
  'webhook_endpoint.secret_rotated',
  'webhook_endpoint.disabled',
  'webhook_endpoint.enabled',
  'webhook_endpoint.deleted',
  'webhook.message_created',
  'webhook.attempted',
  'webhook.retry_requested',
);
type Handled = HandledBy<typeof Base>;

/**
 * Projects webhook endpoint changes, messages and attempts (migrations/0005). Idempotent. A
 * retry request is only checked (the dispatcher acts on it; nothing is stored).
 */
@Injectable()
export class WebhookProjection extends Base {
  constructor(private readonly webhooks: WebhooksRepository) {
    super();
  }

  async apply(events: readonly BillingEvent<Handled>[]): Promise<void> {
    const changes: EndpointChangeRow[] = [];
    const messages: Array<MessageCreatedData & { created_at_ms: number }> = [];
    const attempts: Array<AttemptedData & { event_id: string }> = [];
    for (const event of events) {
      switch (event.type) {
        case 'webhook.message_created':
          messages.push({ ...event.data, created_at_ms: Date.parse(event.time) });
          break;
        case 'webhook.attempted':
          attempts.push({ ...event.data, event_id: event.id });
          break;
        case 'webhook.retry_requested':
          break;
        case 'webhook_endpoint.created':
        case 'webhook_endpoint.secret_rotated':
        case 'webhook_endpoint.disabled':
        case 'webhook_endpoint.enabled':
        case 'webhook_endpoint.deleted':
          changes.push({
            endpoint_id: event.data.id,
            workspace_id: event.subject === 'gpumeter' ? '' : event.subject,
            event_id: event.id,
            type: event.type,
            at_ms: Date.parse(event.time),
            data: JSON.stringify(event.data),
          });
      }
    }
    if (changes.length) await this.webhooks.appendEndpointChanges(changes);
    if (messages.length) await this.webhooks.putMessages(messages);
    if (attempts.length) await this.webhooks.appendAttempts(attempts);
  }
}
