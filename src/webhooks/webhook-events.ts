import { Static, Type } from '@sinclair/typebox';
import { createHash } from 'node:crypto';
import { ofType } from '../platform/billing-events/billing-event';
import { defineBillingEvents, PayloadsOf } from '../platform/billing-events/billing-event-types';
import { Count, Matching, Nullable, OneOf, Rfc3339, Text } from '../platform/billing-events/payload-schema';

/** The webhook event types an endpoint may subscribe to (contract §5, extended). */
export const WEBHOOK_EVENT_TYPES = [
  'usage.threshold_reached',
  'budget.exceeded',
  'budget.forecast_exceeded',
  'invoice.created',
  'invoice.finalized',
  'invoice.paid',
  'invoice.payment_failed',
  'endpoint.disabled',
  'webhook.test',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** The billing events that change an endpoint (folded into its state by foldEndpoint). */
export const ENDPOINT_CHANGE_TYPES = [
  'webhook_endpoint.created',
  'webhook_endpoint.secret_rotated',
  'webhook_endpoint.disabled',
  'webhook_endpoint.enabled',
  'webhook_endpoint.deleted',
] as const;
export type EndpointChangeType = (typeof ENDPOINT_CHANGE_TYPES)[number];
export const isEndpointChange = ofType(...ENDPOINT_CHANGE_TYPES);

/**
 * Payloads of the webhooks module's billing events (subject: the workspace, or `gpumeter` for
 * operator endpoints).
 */
const SEALED = /^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const EndpointId = Text(64);

export const EndpointCreatedData = Type.Object({
  id: EndpointId,
  /** null: an operator endpoint, for every workspace's events */
  workspace_id: Nullable(Type.String()),
  url: Text(2048),
  events: Type.Array(OneOf(WEBHOOK_EVENT_TYPES), { minItems: 1 }),
  description: Type.String({ maxLength: 500 }),
  /** sealed (secret-box.ts), never the secret itself */
  secret: Matching(SEALED),
});
export type EndpointCreatedData = Static<typeof EndpointCreatedData>;

export const EndpointSecretRotatedData = Type.Object({
  id: EndpointId,
  secret: Matching(SEALED),
  /** sealed; still signs until previous_valid_until */
  previous_secret: Matching(SEALED),
  previous_valid_until: Rfc3339(),
});
export type EndpointSecretRotatedData = Static<typeof EndpointSecretRotatedData>;

export const EndpointDisabledData = Type.Object({
  id: EndpointId,
  reason: OneOf(['gone', 'failing', 'operator'] as const),
  detail: Type.String(),
});
export type EndpointDisabledData = Static<typeof EndpointDisabledData>;

/** A disabled endpoint enabled again (by its workspace or the operator). */
export const EndpointEnabledData = Type.Object({ id: EndpointId });
export type EndpointEnabledData = Static<typeof EndpointEnabledData>;

export const EndpointDeletedData = Type.Object({ id: EndpointId });
export type EndpointDeletedData = Static<typeof EndpointDeletedData>;

/** The body POSTed to an endpoint (contract §5). */
export interface WebhookBody {
  type: WebhookEventType;
  id: string;
  created_at: string;
  data: Record<string, unknown>;
}

export const MessageCreatedData = Type.Object({
  message_id: Text(64),
  endpoint_id: EndpointId,
  workspace_id: Type.String(),
  type: OneOf(WEBHOOK_EVENT_TYPES),
  /** the exact JSON sent (signed as it is) */
  body: Type.String({ minLength: 1 }),
  source_event_id: Text(),
  partition: Count(),
});
export type MessageCreatedData = Static<typeof MessageCreatedData>;

export const AttemptedData = Type.Object({
  message_id: Text(64),
  endpoint_id: EndpointId,
  attempt: Count(),
  attempted_at: Rfc3339(),
  status_code: Count(),
  duration_ms: Count(),
  error: Type.String(),
  outcome: OneOf(['succeeded', 'failed', 'gave_up'] as const),
  next_attempt_at: Nullable(Rfc3339()),
});
export type AttemptedData = Static<typeof AttemptedData>;

/**
 * The id of one webhook message: the same source event for the same endpoint is the same
 * message on every replica and every restart (receivers dedupe on `webhook-id`).
 */
export function messageId(sourceEventId: string, endpointId: string): string {
  return `msg_${createHash('sha256').update(`${sourceEventId}\u0000${endpointId}`).digest('base64url').slice(0, 26)}`;
}

/** Someone asked to resend a message now (POST …/deliveries/{message_id}/retry). */
export const RetryRequestedData = Type.Object({ message_id: Text(64), endpoint_id: EndpointId });
export type RetryRequestedData = Static<typeof RetryRequestedData>;

export const WEBHOOK_EVENTS = defineBillingEvents(
  {
    'webhook_endpoint.created': EndpointCreatedData,
    'webhook_endpoint.secret_rotated': EndpointSecretRotatedData,
    'webhook_endpoint.disabled': EndpointDisabledData,
    'webhook_endpoint.enabled': EndpointEnabledData,
    'webhook_endpoint.deleted': EndpointDeletedData,
    'webhook.message_created': MessageCreatedData,
    'webhook.attempted': AttemptedData,
    'webhook.retry_requested': RetryRequestedData,
  },
  {
    'webhook_endpoint.created': (e) =>
      e.data.workspace_id === null || e.data.workspace_id === e.subject
        ? null
        : 'data.workspace_id must be null or the event subject',
  },
);

declare module '../platform/billing-events/billing-event-types' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- declaration merging
  interface BillingEventPayloads extends PayloadsOf<typeof WEBHOOK_EVENTS> {}
}
