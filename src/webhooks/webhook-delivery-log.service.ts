import { Injectable, Logger } from '@nestjs/common';
import { WebhooksConfig } from './webhooks.config';
import { BillingEvent, newBillingEvent, SYSTEM_SUBJECT } from '../platform/billing-events/billing-event';
import { BillingEventsService } from '../platform/billing-events/billing-events.service';
import { Clock } from '../platform/clock';
import { describeError } from '../platform/errors/describe-error';
import { failingSince, failingTooLong, Pending } from './delivery-queue';
import { AttemptResult } from './outbound-delivery';
import { AttemptedData, EndpointDisabledData } from './webhook-events';
import { WebhookEndpoint, WebhooksRepository } from './webhooks.repository';

/**
 * The delivery log: every attempt published as `webhook.attempted` (with the next attempt's
 * time, so a restarted dispatcher resumes each schedule from ClickHouse), and the decisions
 * it supports — whether an endpoint has failed for WEBHOOK_DISABLE_AFTER_DAYS, and disabling
 * it once per enabling.
 */
@Injectable()
export class WebhookDeliveryLog {
  private readonly logger = new Logger(WebhookDeliveryLog.name);
  private records: Array<{ event: BillingEvent; done: (e?: unknown) => void }> = [];
  private flushing?: Promise<void>;
  /** Endpoint → when its current run of failures began, and the enabling that run belongs to. */
  private readonly failing = new Map<string, { enabledAtMs: number; since: number }>();

  constructor(
    private readonly billingEvents: BillingEventsService,
    private readonly repository: WebhooksRepository,
    private readonly config: WebhooksConfig,
    private readonly clock: Clock,
  ) {}

  /** Records attempt `attempt` of a message; resolves once Kafka acknowledged it. */
  async record(
    p: Pending,
    attempt: number,
    at: Date,
    result: AttemptResult,
    outcome: AttemptedData['outcome'],
    nextAtMs: number | null,
  ): Promise<void> {
    const data: AttemptedData = {
      message_id: p.id,
      endpoint_id: p.endpointId,
      attempt,
      attempted_at: at.toISOString(),
      status_code: result.status,
      duration_ms: result.durationMs,
      error: result.error.slice(0, 500),
      outcome,
      next_attempt_at: nextAtMs === null ? null : new Date(nextAtMs).toISOString(),
    };
    await this.recordLater({
      ...newBillingEvent('webhook.attempted', p.workspaceKey, data, at),
      id: `webhook.attempted:${p.id}:${attempt}`,
    });
    if (outcome === 'succeeded') this.failing.delete(p.endpointId);
  }

  /**
   * Attempts are recorded together: the ones that finish within a few milliseconds share one
   * Kafka request. Resolves once this one is acknowledged (and projected).
   */
  private recordLater(event: BillingEvent): Promise<void> {
    return new Promise((resolve, reject) => {
      this.records.push({
        event,
        done: (e) =>
          e === undefined ? resolve() : reject(e instanceof Error ? e : new Error(describeError(e))),
      });
      this.flushing ??= (async () => {
        await new Promise((r) => setTimeout(r, 10));
        while (this.records.length > 0) {
          const batch = this.records;
          this.records = [];
          try {
            await this.billingEvents.publishAll(batch.map((b) => b.event));
            for (const b of batch) b.done();
          } catch (e) {
            for (const b of batch) b.done(e);
          }
        }
      })().finally(() => (this.flushing = undefined));
    });
  }

  /**
   * Whether the endpoint has failed without a break for WEBHOOK_DISABLE_AFTER_DAYS, by
   * failingSince over its attempts since it was last enabled (a re-enabled endpoint starts
   * afresh). Cached per enabling; a success clears it.
   */
  async failingTooLong(endpoint: WebhookEndpoint, nowMs: number): Promise<boolean> {
    let cached = this.failing.get(endpoint.id);
    if (cached?.enabledAtMs !== endpoint.enabled_at_ms) {
      const attempts = await this.repository.attempts({ endpointId: endpoint.id });
      const since =
        failingSince(attempts.filter((a) => a.attempted_at_ms >= endpoint.enabled_at_ms)) ?? nowMs;
      cached = { enabledAtMs: endpoint.enabled_at_ms, since };
      this.failing.set(endpoint.id, cached);
    }
    return failingTooLong(cached.since, nowMs, this.config.WEBHOOK_DISABLE_AFTER_DAYS);
  }

  /** Disables an endpoint: one `webhook_endpoint.disabled` per enabling, whoever decides it. */
  async disable(
    endpoint: WebhookEndpoint,
    reason: EndpointDisabledData['reason'],
    detail: string,
  ): Promise<void> {
    const data: EndpointDisabledData = { id: endpoint.id, reason, detail };
    await this.billingEvents.publish({
      ...newBillingEvent(
        'webhook_endpoint.disabled',
        endpoint.workspace_id ?? SYSTEM_SUBJECT,
        data,
        this.clock.date(),
      ),
      // Once per enabling: the same decision again (another replica, a retry) is one event.
      id: `webhook_endpoint.disabled:${endpoint.id}:${endpoint.enabled_at_ms}`,
    });
    this.logger.warn(`webhook endpoint ${endpoint.id} disabled: ${detail}`);
  }
}
