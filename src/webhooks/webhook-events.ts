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

/** Billing events of the webhooks module (subject: the workspace, or `gpumeter` for operator endpoints). */
export const ENDPOINT_CREATED = 'webhook_endpoint.created';
export const ENDPOINT_SECRET_ROTATED = 'webhook_endpoint.secret_rotated';
export const ENDPOINT_DISABLED = 'webhook_endpoint.disabled';
export const ENDPOINT_DELETED = 'webhook_endpoint.deleted';
export const MESSAGE_CREATED = 'webhook.message_created';
export const ATTEMPTED = 'webhook.attempted';

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
export const RETRY_REQUESTED = 'webhook.retry_requested';
export interface RetryRequestedData {
  message_id: string;
  endpoint_id: string;
}
