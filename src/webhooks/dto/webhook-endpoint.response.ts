import { ApiProperty } from '@nestjs/swagger';
import { EndpointView } from '../webhook-endpoints.service';
import { WEBHOOK_EVENT_TYPES } from '../webhook-events';

export class WebhookEndpointResponse implements EndpointView {
  @ApiProperty({ example: 'we_…' })
  id!: string;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'null: an operator endpoint, for every workspace',
  })
  workspace_id!: string | null;
  @ApiProperty({ example: 'https://hooks.example.com/gpumeter' })
  url!: string;
  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES, isArray: true })
  events!: string[];
  @ApiProperty()
  description!: string;
  @ApiProperty({ enum: ['enabled', 'disabled'] })
  status!: 'enabled' | 'disabled';
  @ApiProperty({ type: String, nullable: true })
  disabled_reason!: string | null;
  @ApiProperty({ format: 'date-time' })
  created_at!: string;
}

/** POST /v1/webhook-endpoints: the endpoint and its signing secret, shown once. */
export class CreatedWebhookEndpointResponse extends WebhookEndpointResponse {
  @ApiProperty({ example: 'whsec_…', description: 'Standard Webhooks signing secret; shown once' })
  secret!: string;
}

export class WebhookEndpointListResponse {
  @ApiProperty({ type: () => [WebhookEndpointResponse] })
  endpoints!: WebhookEndpointResponse[];
}

/** POST …/rotate-secret: the new secret, shown once; the previous one signs beside it for a day. */
export class RotatedSecretResponse {
  @ApiProperty()
  id!: string;
  @ApiProperty({ example: 'whsec_…' })
  secret!: string;
  @ApiProperty({ format: 'date-time' })
  previous_secret_valid_until!: string;
}

/** POST …/test: the webhook.test message queued for delivery. */
export class TestMessageResponse {
  @ApiProperty({ example: 'msg_…' })
  message_id!: string;
}

/** POST …/deliveries/{message_id}/retry: the owner of the message sends it again now. */
export class RetryRequestedResponse {
  @ApiProperty({ example: 'msg_…' })
  message_id!: string;
  @ApiProperty({ enum: ['requested'] })
  retry!: 'requested';
}

const OUTCOMES = ['succeeded', 'failed', 'gave_up'] as const;

class DeliveryAttemptResponse {
  @ApiProperty()
  attempt!: number;
  @ApiProperty({ format: 'date-time' })
  at!: string;
  @ApiProperty({ type: Number, nullable: true, description: 'null: no HTTP answer' })
  status_code!: number | null;
  @ApiProperty()
  duration_ms!: number;
  @ApiProperty({ type: String, nullable: true })
  error!: string | null;
  @ApiProperty({ enum: OUTCOMES })
  outcome!: (typeof OUTCOMES)[number];
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  next_attempt_at!: string | null;
}

class DeliveryResponse {
  @ApiProperty()
  message_id!: string;
  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES })
  type!: string;
  @ApiProperty({ description: 'the webhook event’s id (receivers dedupe on it)' })
  event_id!: string;
  @ApiProperty({ format: 'date-time' })
  created_at!: string;
  @ApiProperty({ enum: ['pending', ...OUTCOMES] })
  status!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  next_attempt_at!: string | null;
  @ApiProperty({ type: () => [DeliveryAttemptResponse] })
  attempts!: DeliveryAttemptResponse[];
}

/** GET …/deliveries: the endpoint's messages, newest first, with every attempt. */
export class DeliveriesResponse {
  @ApiProperty()
  endpoint_id!: string;
  @ApiProperty({ type: () => [DeliveryResponse] })
  deliveries!: DeliveryResponse[];
}
