import { Injectable, OnModuleInit } from '@nestjs/common';
import { BillingEvent, BillingEventProjection } from '../platform/billing-events/billing-event';
import { checkFields, rfc3339, text } from '../platform/billing-events/billing-event-checks';
import { BillingEventsService } from '../platform/billing-events/billing-events.service';
import {
  ATTEMPTED,
  AttemptedData,
  ENDPOINT_CREATED,
  ENDPOINT_DELETED,
  ENDPOINT_DISABLED,
  ENDPOINT_SECRET_ROTATED,
  MESSAGE_CREATED,
  MessageCreatedData,
  RETRY_REQUESTED,
  WEBHOOK_EVENT_TYPES,
} from './webhook-events';
import { EndpointChangeRow, WebhooksRepository } from './webhooks.repository';

const SEALED = /^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const isSealed = (v: unknown) => typeof v === 'string' && SEALED.test(v);
const isEventList = (v: unknown) =>
  Array.isArray(v) && v.length > 0 && v.every((t) => (WEBHOOK_EVENT_TYPES as readonly unknown[]).includes(t));
const isCount = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;

/** Projects webhook endpoint changes, messages and attempts (migrations/0005). Idempotent. */
@Injectable()
export class WebhookProjection implements BillingEventProjection, OnModuleInit {
  readonly handles = [
    ENDPOINT_CREATED,
    ENDPOINT_SECRET_ROTATED,
    ENDPOINT_DISABLED,
    ENDPOINT_DELETED,
    MESSAGE_CREATED,
    ATTEMPTED,
  ];

  constructor(
    private readonly webhooks: WebhooksRepository,
    private readonly billingEvents: BillingEventsService,
  ) {}

  onModuleInit(): void {
    this.billingEvents.register(this);
  }

  refuse(event: BillingEvent): string | null {
    switch (event.type) {
      case ENDPOINT_CREATED:
        return checkFields(event.data, {
          id: text(64),
          workspace_id: (v) => v === null || v === event.subject,
          url: text(2048),
          events: isEventList,
          description: (v) => typeof v === 'string' && v.length <= 500,
          secret: isSealed,
        });
      case ENDPOINT_SECRET_ROTATED:
        return checkFields(event.data, {
          id: text(64),
          secret: isSealed,
          previous_secret: isSealed,
          previous_valid_until: rfc3339,
        });
      case ENDPOINT_DISABLED:
        return checkFields(event.data, {
          id: text(64),
          reason: text(32),
          detail: (v) => typeof v === 'string',
        });
      case ENDPOINT_DELETED:
        return checkFields(event.data, { id: text(64) });
      case MESSAGE_CREATED:
        return checkFields(event.data, {
          message_id: text(64),
          endpoint_id: text(64),
          workspace_id: (v) => typeof v === 'string',
          type: (v) => (WEBHOOK_EVENT_TYPES as readonly unknown[]).includes(v),
          body: (v) => typeof v === 'string' && v.length > 0,
          source_event_id: text(),
          partition: isCount,
        });
      case ATTEMPTED:
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
      case RETRY_REQUESTED:
        return checkFields(event.data, { message_id: text(64), endpoint_id: text(64) });
      default:
        return `the webhook projection does not handle ${event.type}`;
    }
  }

  async apply(event: BillingEvent): Promise<void> {
    await this.applyBatch([event]);
  }

  async applyBatch(events: BillingEvent[]): Promise<void> {
    const changes: EndpointChangeRow[] = [];
    const messages: Array<MessageCreatedData & { created_at_ms: number }> = [];
    const attempts: Array<AttemptedData & { event_id: string }> = [];
    for (const event of events) {
      switch (event.type) {
        case MESSAGE_CREATED:
          messages.push({ ...(event.data as MessageCreatedData), created_at_ms: Date.parse(event.time) });
          break;
        case ATTEMPTED:
          attempts.push({ ...(event.data as AttemptedData), event_id: event.id });
          break;
        case RETRY_REQUESTED:
          break;
        default: {
          const data = event.data as { id: string };
          changes.push({
            endpoint_id: data.id,
            workspace_id: event.subject === 'gpumeter' ? '' : event.subject,
            event_id: event.id,
            type: event.type,
            at_ms: Date.parse(event.time),
            data: JSON.stringify(event.data),
          });
        }
      }
    }
    if (changes.length) await this.webhooks.appendEndpointChanges(changes);
    if (messages.length) await this.webhooks.putMessages(messages);
    if (attempts.length) await this.webhooks.appendAttempts(attempts);
  }
}
