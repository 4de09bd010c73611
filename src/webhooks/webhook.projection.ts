import { Injectable, OnModuleInit } from '@nestjs/common';
import {
  BillingEvent,
  BillingEventEnvelope,
  BillingEventProjection,
  BillingEventType,
} from '../platform/billing-events/billing-event';
import { checkFields, rfc3339, text } from '../platform/billing-events/billing-event-checks';
import { BillingEventsService } from '../platform/billing-events/billing-events.service';
import { AttemptedData, MessageCreatedData, WEBHOOK_EVENT_TYPES } from './webhook-events';
import { EndpointChangeRow, WebhooksRepository } from './webhooks.repository';

const SEALED = /^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const isSealed = (v: unknown) => typeof v === 'string' && SEALED.test(v);
const isEventList = (v: unknown) =>
  Array.isArray(v) && v.length > 0 && v.every((t) => (WEBHOOK_EVENT_TYPES as readonly unknown[]).includes(t));
const isCount = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;

const HANDLES = [
  'webhook_endpoint.created',
  'webhook_endpoint.secret_rotated',
  'webhook_endpoint.disabled',
  'webhook_endpoint.enabled',
  'webhook_endpoint.deleted',
  'webhook.message_created',
  'webhook.attempted',
  'webhook.retry_requested',
] as const satisfies readonly BillingEventType[];
type Handled = (typeof HANDLES)[number];

/**
 * Projects webhook endpoint changes, messages and attempts (migrations/0005). Idempotent. A
 * retry request is only checked here (the dispatcher acts on it; nothing is stored).
 */
@Injectable()
export class WebhookProjection implements BillingEventProjection<Handled>, OnModuleInit {
  readonly handles = HANDLES;

  constructor(
    private readonly webhooks: WebhooksRepository,
    private readonly billingEvents: BillingEventsService,
  ) {}

  onModuleInit(): void {
    this.billingEvents.register(this);
  }

  refuse(event: BillingEventEnvelope<Handled>): string | null {
    switch (event.type) {
      case 'webhook_endpoint.created':
        return checkFields(event.data, {
          id: text(64),
          workspace_id: (v) => v === null || v === event.subject,
          url: text(2048),
          events: isEventList,
          description: (v) => typeof v === 'string' && v.length <= 500,
          secret: isSealed,
        });
      case 'webhook_endpoint.secret_rotated':
        return checkFields(event.data, {
          id: text(64),
          secret: isSealed,
          previous_secret: isSealed,
          previous_valid_until: rfc3339,
        });
      case 'webhook_endpoint.disabled':
        return checkFields(event.data, {
          id: text(64),
          reason: text(32),
          detail: (v) => typeof v === 'string',
        });
      case 'webhook_endpoint.enabled':
      case 'webhook_endpoint.deleted':
        return checkFields(event.data, { id: text(64) });
      case 'webhook.message_created':
        return checkFields(event.data, {
          message_id: text(64),
          endpoint_id: text(64),
          workspace_id: (v) => typeof v === 'string',
          type: (v) => (WEBHOOK_EVENT_TYPES as readonly unknown[]).includes(v),
          body: (v) => typeof v === 'string' && v.length > 0,
          source_event_id: text(),
          partition: isCount,
        });
      case 'webhook.attempted':
        return checkFields(event.data, {
          message_id: text(64),
          endpoint_id: text(64),
          attempt: isCount,
          attempted_at: rfc3339,
          status_code: isCount,
          duration_ms: isCount,
          error: (v) => typeof v === 'string',
          outcome: (v) => v === 'succeeded' || v === 'failed' || v === 'gave_up',
          next_attempt_at: (v) => v === null || rfc3339(v),
        });
      case 'webhook.retry_requested':
        return checkFields(event.data, { message_id: text(64), endpoint_id: text(64) });
    }
  }

  async apply(event: BillingEvent<Handled>): Promise<void> {
    await this.applyBatch([event]);
  }

  async applyBatch(events: BillingEvent<Handled>[]): Promise<void> {
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
