import { Clock } from '../platform/clock';
import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Consumer, EachBatchPayload } from 'kafkajs';
import { Webhook } from 'standardwebhooks';
import { AppConfig } from '../config/app-config';
import { InvoicesRepository } from '../invoicing/invoices.repository';
import { BillingEvent, newBillingEvent } from '../platform/billing-events/billing-event';
import { BillingEventsService } from '../platform/billing-events/billing-events.service';
import { describeError } from '../platform/errors/describe-error';
import { parseUntrustedJson } from '../platform/json/untrusted-json';
import { KafkaService } from '../platform/kafka/kafka.service';
import { superviseConsumer } from '../platform/kafka/supervise-consumer';
import { BatchAbandoned, retryUntilDone } from '../platform/kafka/batch-retry';
import { postWebhook } from './outbound-delivery';
import { InvoiceFacts, webhookFor } from './webhook-bodies';
import {
  AttemptedData,
  EndpointDisabledData,
  isEndpointChange,
  MessageCreatedData,
  messageId,
  WebhookBody,
} from './webhook-events';
import { WebhookEndpointsService } from './webhook-endpoints.service';
import { WebhookEndpoint, WebhooksRepository } from './webhooks.repository';
import { DAY_MS } from '../common/time';

/** A message waiting for its next attempt in this process. */
interface Pending {
  id: string;
  endpointId: string;
  workspaceKey: string;
  body: string;
  attemptsMade: number;
  dueAtMs: number;
}

/**
 * When an endpoint's current run of failures began: its first failed attempt after its last
 * success (null when its last attempt succeeded or it has none).
 */
export function failingSince(
  attempts: ReadonlyArray<{ attempted_at_ms: number; outcome: string }>,
): number | null {
  let since: number | null = null;
  for (const a of [...attempts].sort((x, y) => x.attempted_at_ms - y.attempted_at_ms)) {
    if (a.outcome === 'succeeded') since = null;
    else since ??= a.attempted_at_ms;
  }
  return since;
}

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
 */
@Injectable()
export class WebhookDispatcher implements OnApplicationShutdown {
  private readonly logger = new Logger(WebhookDispatcher.name);
  private consumer?: Consumer;
  private stopping = false;
  private readonly owned = new Set<number>();
  private readonly pending = new Map<string, Pending>();
  private readonly inFlight = new Map<string, number>(); // endpoint → attempts in flight
  private readonly running = new Set<string>(); // message ids in flight
  private readonly settled = new Set<string>(); // message ids this process saw succeed or give up
  private totalInFlight = 0;
  private endpointCache?: { at: number; byId: Map<string, WebhookEndpoint> };
  /** Counts endpoint changes seen, so that a read begun before one is not cached after it. */
  private endpointGeneration = 0;
  private timer?: NodeJS.Timeout;
  private sweeper?: NodeJS.Timeout;
  private readonly schedule: number[];

  constructor(
    private readonly config: AppConfig,
    private readonly kafka: KafkaService,
    private readonly billingEvents: BillingEventsService,
    private readonly repository: WebhooksRepository,
    private readonly endpoints: WebhookEndpointsService,
    private readonly invoices: InvoicesRepository,
    private readonly clock: Clock,
  ) {
    this.schedule = config.WEBHOOK_RETRY_SCHEDULE_SECONDS.map((s) => Number(s) * 1000);
  }

  get groupId(): string {
    return `${this.config.KAFKA_CONSUMER_GROUP}-webhooks`;
  }

  /** Starts consuming and delivering; resolves once the group has given this replica its partitions. */
  async start(): Promise<void> {
    this.stopping = false;
    const consumer = this.kafka.createConsumer({ groupId: this.groupId });
    this.consumer = consumer;
    superviseConsumer(
      consumer,
      () => this.start(),
      () => this.stopping,
      this.logger,
    );
    const joined = new Promise<void>((resolve) => {
      consumer.on(consumer.events.GROUP_JOIN, (e) => {
        const assigned = e.payload.memberAssignment[this.kafka.topics.billingEvents] ?? [];
        this.owned.clear();
        for (const p of assigned) this.owned.add(p);
        for (const [id, p] of this.pending) if (!this.ownsKeySync(p.workspaceKey)) this.pending.delete(id);
        void this.sweep();
        resolve();
      });
    });
    await consumer.connect();
    // A new group starts at the end: webhooks are for what happens from now on, not history.
    await consumer.subscribe({ topic: this.kafka.topics.billingEvents, fromBeginning: false });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async (payload) => {
        try {
          await this.handleBatch(payload);
        } catch (e) {
          // Stopping or rebalancing: nothing of the batch was committed, the next owner reads it.
          if (!(e instanceof BatchAbandoned)) throw e;
        }
      },
    });
    this.timer ??= setInterval(() => this.tick(), TICK_MS);
    this.sweeper ??= setInterval(() => void this.sweep(), SWEEP_MS);
    await Promise.race([joined, new Promise((r) => setTimeout(r, 30_000))]);
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
      p = await this.kafka.partitionFor(this.kafka.topics.billingEvents, key);
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
      this.settled.delete(message.id);
      const made = (await this.repository.attempts({ messageId: message.id })).length;
      this.pending.set(message.id, {
        id: message.id,
        endpointId: message.endpoint_id,
        workspaceKey: event.subject,
        body: message.body,
        attemptsMade: made,
        dueAtMs: this.clock.now(),
      });
      return [];
    }
    if (isEndpointChange(event)) this.forgetEndpoints();
    const hook = webhookFor(event);
    if (!hook) return [];
    const targets = [...(await this.endpointMap()).values()].filter(
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
        partition: await this.kafka.partitionFor(this.kafka.topics.billingEvents, key),
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
    if (this.pending.has(id) || this.running.has(id) || this.settled.has(id)) return;
    if (!(await this.owns(key))) return;
    this.pending.set(id, { id, endpointId, workspaceKey: key, body, attemptsMade: made, dueAtMs });
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

  private async endpointMap(): Promise<Map<string, WebhookEndpoint>> {
    if (this.endpointCache && this.clock.now() - this.endpointCache.at < 5_000)
      return this.endpointCache.byId;
    // A read that started before an endpoint changed must not be kept as the cache: it may
    // still show the endpoint enabled (seen: a message delivered to an endpoint a 410 had
    // just disabled, while another attempt's read was in flight).
    const generation = this.endpointGeneration;
    const byId = new Map((await this.repository.endpoints()).map((e) => [e.id, e]));
    if (generation === this.endpointGeneration) this.endpointCache = { at: this.clock.now(), byId };
    return byId;
  }

  private forgetEndpoints(): void {
    this.endpointCache = undefined;
    this.endpointGeneration++;
  }

  private tick(): void {
    if (this.stopping) return;
    const now = this.clock.now();
    const due = [...this.pending.values()]
      .filter((p) => p.dueAtMs <= now)
      .sort((a, b) => a.dueAtMs - b.dueAtMs);
    for (const p of due) {
      if (this.totalInFlight >= this.config.WEBHOOK_MAX_CONCURRENCY) return;
      if ((this.inFlight.get(p.endpointId) ?? 0) >= this.config.WEBHOOK_MAX_CONCURRENCY_PER_ENDPOINT)
        continue;
      this.pending.delete(p.id);
      this.running.add(p.id);
      this.totalInFlight++;
      this.inFlight.set(p.endpointId, (this.inFlight.get(p.endpointId) ?? 0) + 1);
      void this.attempt(p).finally(() => {
        this.running.delete(p.id);
        this.totalInFlight--;
        this.inFlight.set(p.endpointId, (this.inFlight.get(p.endpointId) ?? 1) - 1);
        setImmediate(() => this.tick()); // a freed slot is used at once, not at the next tick
      });
    }
  }

  /** One attempt: sign, POST, record it (the delivery log), and decide what comes next. */
  private async attempt(p: Pending): Promise<void> {
    try {
      const endpoint = (await this.endpointMap()).get(p.endpointId);
      const attempt = p.attemptsMade + 1;
      const at = this.clock.date();
      if (!endpoint || endpoint.status !== 'enabled') {
        await this.record(
          p,
          attempt,
          at,
          { status: 0, durationMs: 0, error: endpoint ? 'endpoint disabled' : 'endpoint deleted' },
          'gave_up',
          null,
        );
        return;
      }
      const result = await postWebhook(
        endpoint.url,
        this.headers(endpoint, p, at),
        p.body,
        this.endpoints.policy,
      );
      if (result.status >= 200 && result.status < 300) {
        await this.record(p, attempt, at, result, 'succeeded', null);
        return;
      }
      if (result.status === 410) {
        await this.record(p, attempt, at, result, 'gave_up', null);
        await this.disable(endpoint, 'gone', 'the endpoint answered 410 Gone');
        return;
      }
      const delay = this.schedule[attempt];
      const next = delay === undefined ? null : new Date(this.clock.now() + delay);
      await this.record(p, attempt, at, result, next ? 'failed' : 'gave_up', next);
      if (await this.failingTooLong(endpoint, at.getTime()))
        await this.disable(
          endpoint,
          'failing',
          `no successful delivery for ${this.config.WEBHOOK_DISABLE_AFTER_DAYS} days`,
        );
      else if (next) this.pending.set(p.id, { ...p, attemptsMade: attempt, dueAtMs: next.getTime() });
    } catch (e) {
      // Recording failed (Kafka down): try the same attempt again shortly; at least once.
      this.logger.error(`webhooks: attempt at ${p.id} could not be recorded: ${describeError(e)}`);
      this.pending.set(p.id, { ...p, dueAtMs: this.clock.now() + 5_000 });
    }
  }

  /** Standard Webhooks headers; during a rotation's overlap both secrets sign (two signatures). */
  private headers(endpoint: WebhookEndpoint, p: Pending, at: Date): Record<string, string> {
    const secrets = [endpoint.secret];
    if (endpoint.previous_secret && endpoint.previous_valid_until_ms > at.getTime())
      secrets.push(endpoint.previous_secret);
    const signatures = secrets.map((s) => new Webhook(this.endpoints.box.open(s)).sign(p.id, at, p.body));
    return {
      'webhook-id': p.id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': signatures.join(' '),
      'user-agent': 'gpumeter-webhooks/1',
    };
  }

  private async record(
    p: Pending,
    attempt: number,
    at: Date,
    result: { status: number; durationMs: number; error: string },
    outcome: AttemptedData['outcome'],
    next: Date | null,
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
      next_attempt_at: next?.toISOString() ?? null,
    };
    await this.recordLater({
      ...newBillingEvent('webhook.attempted', p.workspaceKey, data, at),
      id: `webhook.attempted:${p.id}:${attempt}`,
    });
    if (outcome !== 'failed') this.settled.add(p.id);
    if (outcome === 'succeeded') this.failingSince.delete(p.endpointId);
  }

  private records: Array<{ event: BillingEvent; done: (e?: unknown) => void }> = [];
  private flushing?: Promise<void>;

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

  /** Endpoint → when its current run of failures began, and the enabling that run belongs to. */
  private readonly failingSince = new Map<string, { enabledAtMs: number; since: number }>();

  /** Whether the endpoint has failed without a break for WEBHOOK_DISABLE_AFTER_DAYS. */
  /**
   * Whether the endpoint has failed without a break for WEBHOOK_DISABLE_AFTER_DAYS, by
   * failingSince over its attempts since it was last enabled (a re-enabled endpoint starts
   * afresh). Cached per enabling; a success clears it.
   */
  private async failingTooLong(endpoint: WebhookEndpoint, nowMs: number): Promise<boolean> {
    let cached = this.failingSince.get(endpoint.id);
    if (cached?.enabledAtMs !== endpoint.enabled_at_ms) {
      const attempts = await this.repository.attempts({ endpointId: endpoint.id });
      const since =
        failingSince(attempts.filter((a) => a.attempted_at_ms >= endpoint.enabled_at_ms)) ?? nowMs;
      cached = { enabledAtMs: endpoint.enabled_at_ms, since };
      this.failingSince.set(endpoint.id, cached);
    }
    return nowMs - cached.since >= this.config.WEBHOOK_DISABLE_AFTER_DAYS * DAY_MS;
  }

  private async disable(endpoint: WebhookEndpoint, reason: EndpointDisabledData['reason'], detail: string) {
    const data: EndpointDisabledData = { id: endpoint.id, reason, detail };
    await this.billingEvents.publish({
      ...newBillingEvent(
        'webhook_endpoint.disabled',
        endpoint.workspace_id ?? SYSTEM,
        data,
        this.clock.date(),
      ),
      // Once per enabling: the same decision again (another replica, a retry) is one event.
      id: `webhook_endpoint.disabled:${endpoint.id}:${endpoint.enabled_at_ms}`,
    });
    this.forgetEndpoints();
    this.logger.warn(`webhook endpoint ${endpoint.id} disabled: ${detail}`);
  }
}
