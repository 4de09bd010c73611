import { KafkaMessage } from 'kafkajs';
import { CredentialProjection } from '../../auth/credential.projection';
import { BudgetAlertsProjection } from '../../budgets/budget-alerts.projection';
import { CatalogService } from '../../catalog/catalog.service';
import { loadConfig } from '../../config/app-config';
import { CreditGrantProjection } from '../../invoicing/credit-grant.projection';
import { InvoiceProjection } from '../../invoicing/invoice.projection';
import { StripeInvoicePusher } from '../../stripe/stripe-invoice-pusher.service';
import { WebhookProjection } from '../../webhooks/webhook.projection';
import { WorkspaceProjection } from '../../workspaces/workspace.projection';
import { KafkaService } from '../kafka/kafka.service';
import { MetricsService } from '../metrics/metrics.service';
import { BillingEventEnvelope, BillingEventProjection, newBillingEvent } from './billing-event';
import { BILLING_EVENT_TYPES, isKnownBillingEventType } from './billing-event-types';
import { BillingEventsRepository } from './billing-events.repository';
import { BillingEventsService } from './billing-events.service';

/** When the events below happened (any fixed instant). */
const AT = new Date(Date.UTC(2026, 9, 1));

/**
 * Every projection the service registers, each over stand-in storage that records what it
 * was asked to write (no ClickHouse: this is about which events reach which projection).
 */
function harness() {
  const logged: BillingEventEnvelope[] = [];
  const writes: string[] = [];
  const repository = { append: (events: BillingEventEnvelope[]) => void logged.push(...events) };
  const metrics = new MetricsService();
  const committed: string[] = [];
  const svc = new BillingEventsService(
    loadConfig({ GPUMETER_ENV: 'test' }),
    {} as KafkaService,
    repository as unknown as BillingEventsRepository,
    metrics,
  );
  // Any storage call is recorded by name and does nothing.
  const storage = new Proxy(
    {},
    {
      get: (_t, name) => async () => {
        writes.push(String(name));
        return name === 'findById' ? undefined : [];
      },
    },
  );
  /* eslint-disable @typescript-eslint/no-explicit-any -- stand-in storage */
  const s = storage as any;
  const projections: BillingEventProjection[] = [
    new WorkspaceProjection(s, svc, s),
    new CredentialProjection(s, svc),
    new CatalogService(s, svc, s, s),
    new InvoiceProjection(s, svc, s),
    new CreditGrantProjection(s, svc),
    new StripeInvoicePusher(s, s, svc, s, s),
    new BudgetAlertsProjection(s, svc),
    new WebhookProjection(s, svc),
  ];
  for (const p of projections) (p as unknown as { onModuleInit(): void }).onModuleInit();
  (svc as any).consumer = {
    commitOffsets: async (o: Array<{ offset: string }>) => committed.push(o[0].offset),
  };
  /* eslint-enable @typescript-eslint/no-explicit-any */
  return { svc, projections, logged, writes, metrics, committed };
}

const record = (offset: number, value: unknown): KafkaMessage =>
  ({
    offset: String(offset),
    key: null,
    value: Buffer.from(JSON.stringify(value)),
    headers: {},
  }) as KafkaMessage;

describe('billing event types: one map, every type projected, unknown types skipped and counted (issue 11)', () => {
  it('has a projection for every type it declares, and no projection of an undeclared type', () => {
    const { projections } = harness();
    const handled = new Set(projections.flatMap((p) => p.handles));
    expect([...BILLING_EVENT_TYPES].filter((t) => !handled.has(t))).toEqual([]);
    expect([...handled].filter((t) => !isKnownBillingEventType(t))).toEqual([]);
    expect(BILLING_EVENT_TYPES.length).toBe(33);
    // Inherited names are not types (KNOWN is looked up by own property only).
    expect(isKnownBillingEventType('constructor')).toBe(false);
    expect(isKnownBillingEventType('toString')).toBe(false);
  });

  it('passes a type it does not know to no projection, keeps it in the event log and counts it', async () => {
    const { svc, logged, writes, metrics, committed } = harness();
    // Shaped like a workspace.created, the type the workspace projection once assumed for
    // anything it did not list: it must not become a workspace.
    const future = {
      ...newBillingEvent(
        'workspace.created',
        'ws_future',
        {
          id: 'ws_future',
          name: 'from a newer gpumeter',
          email: 'x@y.test',
          api_key_hash: 'a'.repeat(64),
          api_key_prefix: 'gpm_ws_abcde',
        },
        AT,
      ),
      type: 'workspace.archived',
    };
    const known = newBillingEvent(
      'workspace.plan_changed',
      'ws_a',
      {
        plan: 'team',
        effective_from: '2027-01-01T00:00:00.000Z',
      },
      AT,
    );
    expect(svc.refusal(future)).toBeNull(); // a valid envelope: not dead-lettered
    expect(svc.acceptable(future)).toBeNull(); // …but no reader takes it for a known event
    expect(svc.acceptable(known)).toEqual(known);

    const payload = {
      batch: { topic: 'billing.events.v1', partition: 0, messages: [record(7, future), record(8, known)] },
      isRunning: () => true,
      isStale: () => false,
      heartbeat: async () => undefined,
      resolveOffset: () => undefined,
    };
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the consumer's batch handler
    await (svc as any).handleBatch(payload);

    expect(logged.map((e) => e.type)).toEqual(['workspace.archived', 'workspace.plan_changed']);
    expect(writes).toEqual(['assignPlan']); // the known event only; no upsert of a workspace
    expect(committed).toEqual(['9']);
    const counted = await metrics.registry
      .getSingleMetric('gpumeter_billing_events_unknown_type_total')
      ?.get();
    expect(counted?.values[0]?.value).toBe(1);
  });
});
