import { Clock } from '../platform/clock';
import { KafkaConfig } from '../platform/kafka/kafka.config';
import { WebhooksConfig } from './webhooks.config';
import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Consumer, EachBatchPayload } from 'kafkajs';
import { InvoicesRepository } from '../invoicing/invoices.repository';
import { BillingEvent, newBillingEvent } from '../platform/billing-events/billing-event';
import { BillingEventsService } from '../platform/billing-events/billing-events.service';
import { describeError } from '../platform/errors/describe-error';
import { parseUntrustedJson } from '../platform/json/untrusted-json';
import { KafkaAdmin } from '../platform/kafka/kafka-admin';
import { KafkaClient } from '../platform/kafka/kafka-client';
import { runConsumer } from '../platform/kafka/run-consumer';
import { retryUntilDone } from '../platform/kafka/batch-retry';
import { decideAttempt, DeliveryQueue, Pending } from './delivery-queue';
import { EndpointCache } from './endpoint-cache';
import { InvoiceFacts, webhookFor } from './webhook-bodies';
import { WebhookDeliveryLog } from './webhook-delivery-log.service';
import { isEndpointChange, MessageCreatedData, messageId, WebhookBody } from './webhook-events';
import { WebhookSender } from './webhook-sender.service';
import { WebhookEndpoint, WebhooksRepository } from './webhooks.repository';

const TICK_MS = 200;
const SWEEP_MS = 30_000;
const SYSTEM = 'gpumeter';

/**
 * Delivers webhooks, at least once (roles `worker` and `all`).
 *
 * It reads billing.events.v1 with its own consumer group. A billing event that is a webhook
 * (an invoice created, finalized, paid…; an endpoint disabled) becomes one message per
 * subscribed endpoint, published as `webhook.message_created` with a deterministic id, so the
 * same fact is the same message after any redelivery or restart and receivers can dedupe on
 * `webhook-id`. Every attempt is published as `webhook.attempted` (the delivery log) with
 * the next attempt's time, so a restarted dispatcher resumes each schedule from ClickHouse.
 *
 * Several replicas: the consumer group gives each replica some partitions, and a replica
 * delivers only the messages of its partitions (a message lives on its workspace's
 * partition), so no message is sent by two replicas at once. A replay never runs this: it
 * sends nothing.
 *
 * Isolation: attempts run with bounded concurrency per endpoint and in all, each with a 15 s
 * timeout, so a slow or dead endpoint only delays itself.
 *
 * The schedule is DeliveryQueue and decideAttempt (delivery-queue.ts, pure), one attempt on
 * the wire WebhookSender, the delivery log and the disable policy WebhookDeliveryLog.
 */
@Injectable()
export class WebhookDispatcher implements OnApplicationShutdown {
  private readonly logger = new Logger(WebhookDispatcher.name);
  private consumer?: Consumer;
  private stopping = false;
  private readonly owned = new Set<number>();
  private readonly queue: DeliveryQueue;
  private readonly endpoints: EndpointCache;
  private timer?: NodeJS.Timeout;
  private sweeper?: NodeJS.Timeout;
  private readonly schedule: number[];

  constructor(
    private readonly kafkaConfig: KafkaConfig,
    private readonly webhooksConfig: WebhooksConfig,
    private readonly client: KafkaClient,
    private readonly admin: KafkaAdmin,
    private readonly billingEvents: BillingEventsService,
    private readonly repository: WebhooksRepository,
    private readonly invoices: InvoicesRepository,
    private readonly sender: WebhookSender,
    private readonly log: WebhookDeliveryLog,
    private readonly clock: Clock,
  ) {
    this.schedule = webhooksConfig.WEBHOOK_RETRY_SCHEDULE_SECONDS.map((s) => Number(s) * 1000);
    this.endpoints = new EndpointCache(
      () => repository.endpoints(),
      () => clock.now(),
    );
    this.queue = new DeliveryQueue({
      total: webhooksConfig.WEBHOOK_MAX_CONCURRENCY,
      perEndpoint: webhooksConfig.WEBHOOK_MAX_CONCURRENCY_PER_ENDPOINT,
    });
  }

  get groupId(): string {
    return `${this.kafkaConfig.KAFKA_CONSUMER_GROUP}-webhooks`;
  }

  /** Starts consuming and delivering; resolves once the group has given this replica its partitions. */
  async start(): Promise<void> {
    this.stopping = false;
    let joined!: () => void;
    const hasJoined = new Promise<void>((resolve) => (joined = resolve));
    const { consumer, started } = runConsumer(this.client, {
      groupId: this.groupId,
      topic: this.admin.topics.billingEvents,
      // A new group starts at the end: webhooks are for what happens from now on, not history.
      fromBeginning: false,
      eachBatch: (payload) => this.handleBatch(payload),
      onAssigned: (partitions) => {
        this.owned.clear();
        for (const p of partitions) this.owned.add(p);
        this.queue.dropWhere((p) => !this.ownsKeySync(p.workspaceKey));
        void this.sweep();
        joined();
      },
      restart: () => this.start(),
      isStopping: () => this.stopping,
      logger: this.logger,
    });
    this.consumer = consumer;
    await started;
    this.timer ??= setInterval(() => this.tick(), TICK_MS);
    this.sweeper ??= setInterval(() => void this.sweep(), SWEEP_MS);
    await Promise.race([hasJoined, new Promise((r) => setTimeout(r, 30_000))]);
    this.logger.log(`delivering webhooks as group ${this.groupId}`);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    if (this.sweeper) clearInterval(this.sweeper);
    await this.consumer?.disconnect().catch(() => undefined);
  }

  private partitionCache = new Map<string, number>();
  private ownsKeySync(key: string): boolean {
    const p = this.partitionCache.get(key);
    return p === undefined ? true : this.owned.has(p);
  }
  private async owns(key: string): Promise<boolean> {
    let p = this.partitionCache.get(key);
    if (p === undefined) {
      p = await this.admin.partitionFor(this.admin.topics.billingEvents, key);
      this.partitionCache.set(key, p);
    }
    return this.owned.has(p);
  }

  private async handleBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const fanOut: Array<{ body: WebhookBody; endpoint: WebhookEndpoint; key: string }> = [];
    for (const m of batch.messages) {
      if (!payload.isRunning() || payload.isStale()) return;
      const parsed = parseUntrustedJson(m.value);
      const event = parsed.ok ? this.billingEvents.acceptable(parsed.value) : null;
      if (event) {
        await this.untilDone(payload, `${event.type} ${event.id}`, async () =>
          fanOut.push(...(await this.onEvent(event))),
        );
      }
      payload.resolveOffset(m.offset);
    }
    // The batch's new messages: one look for those already published, one publish for the rest.
    await this.untilDone(payload, 'publishing messages', () => this.createMessages(fanOut));
    await payload.heartbeat();
    // Once per batch: a batch handled again after a crash changes nothing (messages are
    // published once, by id, and queued once).
    const last = batch.messages[batch.messages.length - 1]?.offset;
    if (last !== undefined)
      await this.consumer!.commitOffsets([
        { topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() },
      ]);
  }

  /** The consumer's own retry (capped backoff, heartbeating); the batch is abandoned uncommitted on stop or rebalance. */
  private untilDone(payload: EachBatchPayload, what: string, step: () => Promise<unknown>): Promise<void> {
    return retryUntilDone(payload, `webhooks: ${what}`, step, this.logger);
  }

  /** Acts on one billing event; returns the messages it calls for (created by the caller, per batch). */
  private async onEvent(
    event: BillingEvent,
  ): Promise<Array<{ body: WebhookBody; endpoint: WebhookEndpoint; key: string }>> {
    // The dispatcher's own facts first; every other event may become a webhook (webhookFor).
    if (event.type === 'webhook.message_created') {
      const d = event.data;
      await this.enqueue(d.message_id, d.endpoint_id, event.subject, d.body, 0, this.clock.now());
      return [];
    }
    if (event.type === 'webhook.retry_requested') {
      const message = await this.repository.message(event.data.message_id);
      if (!message) return [];
      const made = (await this.repository.attempts({ messageId: message.id })).length;
      this.queue.requeue({
        id: message.id,
        endpointId: message.endpoint_id,
        workspaceKey: event.subject,
        body: message.body,
        attemptsMade: made,
        dueAtMs: this.clock.now(),
      });
      return [];
    }
    if (isEndpointChange(event)) this.endpoints.forget();
    const hook = webhookFor(event);
    if (!hook) return [];
    const targets = [...(await this.endpoints.byId()).values()].filter(
      (e) =>
        e.status === 'enabled' &&
        e.events.includes(hook.body.type) &&
        (e.workspace_id === null || (!hook.operatorOnly && e.workspace_id === hook.workspaceId)),
    );
    if (targets.length === 0) return [];
    if (event.type === 'invoice.paid' || event.type === 'invoice.payment_failed') {
      const facts = await this.invoiceFacts(event.data.invoice_id);
      Object.assign(hook.body.data, facts ?? {});
    }
    return targets.map((endpoint) => ({ body: hook.body, endpoint, key: event.subject }));
  }

  private async invoiceFacts(invoiceId: string): Promise<InvoiceFacts | undefined> {
    const [doc] = await this.invoices.documents({ id: invoiceId });
    return (
      doc && {
        invoice_id: doc.document.id,
        period: doc.document.period,
        total: { amount: doc.document.total, currency: doc.document.currency },
      }
    );
  }

  /** Messages for endpoints, each published once (their ids are deterministic), then queued. */
  private async createMessages(
    wanted: ReadonlyArray<{ body: WebhookBody; endpoint: WebhookEndpoint; key: string }>,
  ) {
    if (wanted.length === 0) return;
    const events: BillingEvent<'webhook.message_created'>[] = [];
    for (const { body, endpoint, key } of wanted) {
      const id = messageId(body.id, endpoint.id);
      const data: MessageCreatedData = {
        message_id: id,
        endpoint_id: endpoint.id,
        workspace_id: key === SYSTEM ? '' : key,
        type: body.type,
        body: JSON.stringify(body),
        source_event_id: body.id,
        partition: await this.admin.partitionFor(this.admin.topics.billingEvents, key),
      };
      events.push({
        ...newBillingEvent('webhook.message_created', key, data, this.clock.date()),
        id: `webhook.message_created:${id}`,
      });
    }
    const unique = [...new Map(events.map((e) => [e.id, e])).values()];
    const published = await this.billingEvents.existing(unique.map((e) => e.id));
    const fresh = unique.filter((e) => !published.has(e.id));
    await this.billingEvents.publishAll(fresh);
    for (const e of fresh) {
      const d = e.data;
      await this.enqueue(d.message_id, d.endpoint_id, e.subject, d.body, 0, this.clock.now());
    }
  }

  private async enqueue(
    id: string,
    endpointId: string,
    key: string,
    body: string,
    made: number,
    dueAtMs: number,
  ) {
    if (!(await this.owns(key))) return;
    this.queue.add({ id, endpointId, workspaceKey: key, body, attemptsMade: made, dueAtMs });
  }

  /** Resumes what ClickHouse says is unsettled on this replica's partitions (after a restart or a rebalance). */
  private async sweep(): Promise<void> {
    try {
      for (const m of await this.repository.unsettled()) {
        const key = m.workspace_id === '' ? SYSTEM : m.workspace_id;
        const due = m.attempts === 0 ? this.clock.now() : m.next_attempt_at_ms;
        if (due === 0) continue; // a failed attempt with no retry left: it gave up
        await this.enqueue(m.id, m.endpoint_id, key, m.body, m.attempts, due);
      }
    } catch (e) {
      this.logger.warn(
        `webhooks: resuming unsettled messages failed (next sweep retries): ${describeError(e)}`,
      );
    }
  }

  private tick(): void {
    if (this.stopping) return;
    for (const p of this.queue.startDue(this.clock.now()))
      void this.attempt(p).finally(() => {
        this.queue.finished(p);
        setImmediate(() => this.tick()); // a freed slot is used at once, not at the next tick
      });
  }

  /** One attempt: send, record it (the delivery log), and decide what comes next. */
  private async attempt(p: Pending): Promise<void> {
    try {
      const endpoint = (await this.endpoints.byId()).get(p.endpointId);
      const attempt = p.attemptsMade + 1;
      const at = this.clock.date();
      if (!endpoint || endpoint.status !== 'enabled') {
        const error = endpoint ? 'endpoint disabled' : 'endpoint deleted';
        await this.log.record(p, attempt, at, { status: 0, durationMs: 0, error }, 'gave_up', null);
        this.queue.settle(p.id);
        return;
      }
      const result = await this.sender.send(endpoint, p, at);
      const decision = decideAttempt(result.status, attempt, this.schedule, this.clock.now());
      await this.log.record(p, attempt, at, result, decision.outcome, decision.nextAtMs);
      if (decision.outcome !== 'failed') this.queue.settle(p.id);
      if (decision.gone) return this.disable(endpoint, 'gone', 'the endpoint answered 410 Gone');
      if (decision.outcome === 'succeeded') return;
      if (await this.log.failingTooLong(endpoint, at.getTime()))
        await this.disable(
          endpoint,
          'failing',
          `no successful delivery for ${this.webhooksConfig.WEBHOOK_DISABLE_AFTER_DAYS} days`,
        );
      else if (decision.nextAtMs !== null)
        this.queue.schedule({ ...p, attemptsMade: attempt, dueAtMs: decision.nextAtMs });
    } catch (e) {
      // Recording failed (Kafka down): try the same attempt again shortly; at least once.
      this.logger.error(`webhooks: attempt at ${p.id} could not be recorded: ${describeError(e)}`);
      this.queue.schedule({ ...p, dueAtMs: this.clock.now() + 5_000 });
    }
  }

  private async disable(
    endpoint: WebhookEndpoint,
    reason: 'gone' | 'failing',
    detail: string,
  ): Promise<void> {
    await this.log.disable(endpoint, reason, detail);
    this.endpoints.forget();
  }
}
