import { Clock } from '../platform/clock';
import { RuntimeConfig } from '../config/runtime.config';
import { WebhooksConfig } from './webhooks.config';
import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { newBillingEvent } from '../platform/billing-events/billing-event';
import { BillingEventsService } from '../platform/billing-events/billing-events.service';
import { ApiError, ApiErrorCode } from '../common/api-error';
import { KafkaAdmin } from '../platform/kafka/kafka-admin';
import { Principal } from '../auth/principal';
import { WorkspacesRepository } from '../workspaces/workspaces.repository';
import { CreateWebhookEndpointDto } from './dto/webhook-endpoint.dto';
import { refuseUrl, urlPolicy, UrlPolicy } from './endpoint-url';
import { newSigningSecret, SecretBox } from './secret-box';
import {
  EndpointCreatedData,
  EndpointSecretRotatedData,
  MessageCreatedData,
  messageId,
  WebhookBody,
} from './webhook-events';
import { AttemptRow, WebhookEndpoint, WebhooksRepository } from './webhooks.repository';

/** An endpoint a billing event was sent to, and where its delivery stands. */
export interface Notified {
  endpoint_id: string;
  url: string;
  status: 'pending' | AttemptRow['outcome'];
}
import { DAY_MS } from '../common/time';

/** How long a rotated-out secret keeps signing beside the new one. */
export const ROTATION_OVERLAP_MS = DAY_MS;
const SYSTEM = 'gpumeter';
/** How long enabling waits for the billing consumer to project it, so the answer shows it. */
const ENABLE_CONFIRM_TIMEOUT_MS = 30_000;

export interface EndpointView {
  id: string;
  workspace_id: string | null;
  url: string;
  events: string[];
  description: string;
  status: 'enabled' | 'disabled';
  disabled_reason: string | null;
  created_at: string;
}

const view = (e: WebhookEndpoint): EndpointView => ({
  id: e.id,
  workspace_id: e.workspace_id,
  url: e.url,
  events: e.events,
  description: e.description,
  status: e.status,
  disabled_reason: e.disabled_reason,
  created_at: new Date(e.created_at_ms).toISOString(),
});

/**
 * Managing webhook endpoints: each change is a billing event (so replay rebuilds them); the
 * signing secret is shown once, at creation or rotation, and stored sealed. A workspace key
 * sees only its own endpoints (another's is a 404); the operator sees all and may create
 * operator endpoints (no workspace), which receive every workspace's events.
 */
@Injectable()
export class WebhookEndpointsService {
  readonly policy: UrlPolicy;
  readonly box: SecretBox;

  constructor(
    runtime: RuntimeConfig,
    config: WebhooksConfig,
    private readonly repository: WebhooksRepository,
    private readonly billingEvents: BillingEventsService,
    private readonly workspaces: WorkspacesRepository,
    private readonly kafka: KafkaAdmin,
    private readonly clock: Clock,
  ) {
    this.policy = urlPolicy(runtime.GPUMETER_ENV);
    this.box = new SecretBox(config.WEBHOOK_SECRETS_KEY);
  }

  async create(principal: Principal, dto: CreateWebhookEndpointDto) {
    let workspaceId: string | null;
    if (principal.kind === 'workspace') {
      if (dto.workspace_id !== undefined && dto.workspace_id !== principal.workspaceId)
        throw new ApiError(ApiErrorCode.NotFound, 'workspace not found');
      workspaceId = principal.workspaceId;
    } else {
      workspaceId = dto.workspace_id ?? null;
      if (workspaceId !== null && !(await this.workspaces.findById(workspaceId)))
        throw new ApiError(ApiErrorCode.NotFound, 'workspace not found');
    }
    const refused = refuseUrl(dto.url, this.policy);
    if (refused) throw ApiError.invalid('url', refused);
    const secret = newSigningSecret();
    const data: EndpointCreatedData = {
      id: `ep_${randomBytes(12).toString('hex')}`,
      workspace_id: workspaceId,
      url: dto.url,
      events: [...new Set(dto.events)],
      description: dto.description ?? '',
      secret: this.box.seal(secret),
    };
    const event = newBillingEvent('webhook_endpoint.created', workspaceId ?? SYSTEM, data, this.clock.date());
    await this.billingEvents.publish(event);
    return { ...view({ ...(await this.mustFind(principal, data.id)) }), secret };
  }

  async list(principal: Principal, workspaceId?: string): Promise<EndpointView[]> {
    const filter =
      principal.kind === 'workspace'
        ? { workspaceId: principal.workspaceId }
        : workspaceId !== undefined
          ? { workspaceId }
          : {};
    if (principal.kind === 'workspace' && workspaceId !== undefined && workspaceId !== principal.workspaceId)
      throw new ApiError(ApiErrorCode.NotFound, 'workspace not found');
    return (await this.repository.endpoints(filter)).map(view);
  }

  async get(principal: Principal, id: string): Promise<EndpointView> {
    return view(await this.mustFind(principal, id));
  }

  async remove(principal: Principal, id: string): Promise<void> {
    const e = await this.mustFind(principal, id);
    await this.billingEvents.publish(
      newBillingEvent('webhook_endpoint.deleted', e.workspace_id ?? SYSTEM, { id }, this.clock.date()),
    );
  }

  /**
   * Enables a disabled endpoint again (after it was disabled for failing, a 410, or by the
   * operator): deliveries resume for messages made from now on, its run of failures starts
   * afresh (the disable policy counts from now), and messages that gave up while it was
   * disabled can be sent again with the retry route. Enabling an enabled endpoint changes nothing.
   */
  async enable(principal: Principal, id: string): Promise<EndpointView> {
    const e = await this.mustFind(principal, id);
    if (e.status === 'enabled') return view(e);
    await this.billingEvents.publishAndAwaitProjection(
      newBillingEvent('webhook_endpoint.enabled', e.workspace_id ?? SYSTEM, { id }, this.clock.date()),
      ENABLE_CONFIRM_TIMEOUT_MS,
    );
    return view(await this.mustFind(principal, id));
  }

  /** A new secret; the old one keeps signing beside it for 24 h (two signatures per message). */
  async rotate(principal: Principal, id: string, nowMs = this.clock.now()) {
    const e = await this.mustFind(principal, id);
    const secret = newSigningSecret();
    const data: EndpointSecretRotatedData = {
      id,
      secret: this.box.seal(secret),
      previous_secret: e.secret,
      previous_valid_until: new Date(nowMs + ROTATION_OVERLAP_MS).toISOString(),
    };
    await this.billingEvents.publish(
      newBillingEvent('webhook_endpoint.secret_rotated', e.workspace_id ?? SYSTEM, data, this.clock.date()),
    );
    return { id, secret, previous_secret_valid_until: data.previous_valid_until };
  }

  /** Sends a `webhook.test` event to the endpoint now (through the same delivery as any other). */
  async test(principal: Principal, id: string) {
    const e = await this.mustFind(principal, id);
    const eventId = `webhook.test:${randomBytes(8).toString('hex')}`;
    const body: WebhookBody = {
      type: 'webhook.test',
      id: eventId,
      created_at: this.clock.date().toISOString(),
      data: { endpoint_id: id, workspace_id: e.workspace_id },
    };
    const key = e.workspace_id ?? SYSTEM;
    const data: MessageCreatedData = {
      message_id: messageId(eventId, id),
      endpoint_id: id,
      workspace_id: e.workspace_id ?? '',
      type: 'webhook.test',
      body: JSON.stringify(body),
      source_event_id: eventId,
      partition: await this.kafka.partitionFor(this.kafka.topics.billingEvents, key),
    };
    await this.billingEvents.publish({
      ...newBillingEvent('webhook.message_created', key, data, this.clock.date()),
      id: `webhook.message_created:${data.message_id}`,
    });
    return { message_id: data.message_id };
  }

  /** Asks the dispatcher that owns the message to send it again now (even after it gave up). */
  async retry(principal: Principal, id: string, messageIdToRetry: string) {
    const e = await this.mustFind(principal, id);
    const message = await this.repository.message(messageIdToRetry);
    if (!message || message.endpoint_id !== id)
      throw new ApiError(ApiErrorCode.NotFound, 'message not found');
    const key = message.workspace_id === '' ? SYSTEM : message.workspace_id;
    await this.billingEvents.publish(
      newBillingEvent(
        'webhook.retry_requested',
        key,
        { message_id: message.id, endpoint_id: e.id },
        this.clock.date(),
      ),
    );
    return { message_id: message.id, retry: 'requested' };
  }

  /**
   * Which of the workspace's own endpoints each billing event was sent to, and how its
   * delivery stands (pending until a first attempt; then the last attempt's outcome). An
   * operator endpoint that also got it is not the workspace's to see.
   */
  async notifications(
    workspaceId: string,
    sourceEventIds: readonly string[],
  ): Promise<Map<string, Notified[]>> {
    const endpoints = await this.repository.endpoints({ workspaceId });
    const byId = new Map(endpoints.map((e) => [e.id, e]));
    const messages = await this.repository.messagesFrom([...byId.keys()], sourceEventIds);
    const lastOutcome = new Map<string, AttemptRow['outcome']>();
    for (const endpointId of new Set(messages.map((m) => m.endpoint_id)))
      for (const a of await this.repository.attempts({ endpointId }))
        lastOutcome.set(a.message_id, a.outcome);
    const out = new Map<string, Notified[]>();
    for (const m of messages.sort(
      (a, b) => a.created_at_ms - b.created_at_ms || (a.endpoint_id < b.endpoint_id ? -1 : 1),
    ))
      out.set(m.source_event_id, [
        ...(out.get(m.source_event_id) ?? []),
        {
          endpoint_id: m.endpoint_id,
          url: byId.get(m.endpoint_id)!.url,
          status: lastOutcome.get(m.id) ?? 'pending',
        },
      ]);
    return out;
  }

  /** The delivery log: the endpoint's messages (newest first) with every attempt. */
  async deliveries(principal: Principal, id: string, limit = 100) {
    await this.mustFind(principal, id);
    const [messages, attempts] = await Promise.all([
      this.repository.messages(id, limit),
      this.repository.attempts({ endpointId: id }),
    ]);
    const byMessage = new Map<string, typeof attempts>();
    for (const a of attempts) byMessage.set(a.message_id, [...(byMessage.get(a.message_id) ?? []), a]);
    return {
      endpoint_id: id,
      deliveries: messages.map((m) => {
        const tried = byMessage.get(m.id) ?? [];
        const last = tried[tried.length - 1];
        return {
          message_id: m.id,
          type: m.type,
          event_id: (JSON.parse(m.body) as WebhookBody).id,
          created_at: new Date(m.created_at_ms).toISOString(),
          status: last === undefined ? 'pending' : last.outcome,
          next_attempt_at:
            last?.outcome === 'failed' && last.next_attempt_at_ms > 0
              ? new Date(last.next_attempt_at_ms).toISOString()
              : null,
          attempts: tried.map((a) => ({
            attempt: a.attempt,
            at: new Date(a.attempted_at_ms).toISOString(),
            status_code: a.status_code === 0 ? null : a.status_code,
            duration_ms: a.duration_ms,
            error: a.error || null,
            outcome: a.outcome,
            next_attempt_at: a.next_attempt_at_ms > 0 ? new Date(a.next_attempt_at_ms).toISOString() : null,
          })),
        };
      }),
    };
  }

  private async mustFind(principal: Principal, id: string): Promise<WebhookEndpoint> {
    const [e] = await this.repository.endpoints({ id });
    const visible =
      e &&
      (principal.kind === 'operator' ||
        (principal.kind === 'workspace' && e.workspace_id === principal.workspaceId));
    if (!visible) throw new ApiError(ApiErrorCode.NotFound, 'webhook endpoint not found');
    return e;
  }
}
