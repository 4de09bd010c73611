import { ofType } from '../platform/billing-events/billing-event';
import { createHash } from 'node:crypto';

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
 * operator endpoints); their names are in BillingEventPayloads.
 */
export interface EndpointCreatedData {
  id: string;
  /** null: an operator endpoint, for every workspace's events */
  workspace_id: string | null;
  url: string;
  events: string[];
  description: string;
  /** sealed (secret-box.ts), never the secret itself */
  secret: string;
}

export interface EndpointSecretRotatedData {
  id: string;
  secret: string; // sealed
  previous_secret: string; // sealed; still signs until previous_valid_until
  previous_valid_until: string;
}

export interface EndpointDisabledData {
  id: string;
  reason: 'gone' | 'failing' | 'operator';
  detail: string;
}

/** A disabled endpoint enabled again (by its workspace or the operator). */
export interface EndpointEnabledData {
  id: string;
}

export interface EndpointDeletedData {
  id: string;
}

/** The body POSTed to an endpoint (contract §5). */
export interface WebhookBody {
  type: WebhookEventType;
  id: string;
  created_at: string;
  data: Record<string, unknown>;
}

export interface MessageCreatedData {
  message_id: string;
  endpoint_id: string;
  workspace_id: string;
  type: WebhookEventType;
  body: string; // the exact JSON sent (signed as it is)
  source_event_id: string;
  partition: number;
}

export interface AttemptedData {
  message_id: string;
  endpoint_id: string;
  attempt: number;
  attempted_at: string;
  status_code: number;
  duration_ms: number;
  error: string;
  outcome: 'succeeded' | 'failed' | 'gave_up';
  next_attempt_at: string | null;
}

/**
 * The id of one webhook message: the same source event for the same endpoint is the same
 * message on every replica and every restart (receivers dedupe on `webhook-id`).
 */
export function messageId(sourceEventId: string, endpointId: string): string {
  return `msg_${createHash('sha256').update(`${sourceEventId}\u0000${endpointId}`).digest('base64url').slice(0, 26)}`;
}

/** Someone asked to resend a message now (POST …/deliveries/{message_id}/retry). */
export interface RetryRequestedData {
  message_id: string;
  endpoint_id: string;
}
