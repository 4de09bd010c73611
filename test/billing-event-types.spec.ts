import { KafkaMessage } from 'kafkajs';
import { billingEventsHarness } from './support/billing-events-harness';
import { newBillingEvent } from '../src/platform/billing-events/billing-event';

/** When the events below happened (any fixed instant). */
const AT = new Date(Date.UTC(2026, 9, 1));

const harness = billingEventsHarness;

const record = (offset: number, value: unknown): KafkaMessage =>
  ({
    offset: String(offset),
    key: null,
    value: Buffer.from(JSON.stringify(value)),
    headers: {},
  }) as KafkaMessage;

describe('billing event types: one map, every type projected, unknown types skipped and counted (issue 11)', () => {
  it('every type a module defines has exactly the projections the modules provide, each type defined once', () => {
    const { svc, projections } = harness();
    expect(svc.knownTypes.length).toBe(33);
    expect(svc.knownTypes.filter((t) => svc.projectionsOf(t).length === 0)).toEqual([]);
    expect(projections.map((p) => p.constructor.name).sort()).toEqual([
      'BudgetAlertsProjection',
      'CatalogService',
      'CredentialProjection',
      'CreditGrantProjection',
      'InvoiceProjection',
      'StripeInvoicePusher',
      'WebhookProjection',
      'WorkspaceProjection',
    ]);
    expect(svc.projectionsOf('invoice.paid')).toEqual(['InvoiceProjection']);
    // Inherited names are not types.
    expect(
      svc.acceptable({
        ...newBillingEvent(
          'workspace.plan_changed',
          'ws_a',
          { plan: 'team', effective_from: '2027-01-01T00:00:00.000Z' },
          AT,
        ),
        type: 'constructor.x',
      }),
    ).toBeNull();
    // A type defined twice, or projected without a definition, stops start-up.
    const again = harness().svc;
    expect(() => again.defineTypes({ schemas: { 'invoice.paid': {} as never }, refinements: {} })).toThrow(
      'billing event type invoice.paid is defined twice',
    );
    class Orphan {
      handles = ['invoice.archived'];
      apply = async () => undefined;
    }
    expect(() => again.addProjection(new Orphan() as never)).toThrow(
      /projects types nobody defined: invoice.archived/,
    );
  });

  it('passes a type it does not know to no projection, keeps it in the event log and counts it', async () => {
    const { svc, consumer, logged, writes, metrics, committed } = harness();
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
    await (consumer as any).handleBatch(payload);

    expect(logged.map((e) => e.type)).toEqual(['workspace.archived', 'workspace.plan_changed']);
    expect(writes).toEqual(['assignPlan']); // the known event only; no upsert of a workspace
    expect(committed).toEqual(['9']);
    const counted = await metrics.registry
      .getSingleMetric('gpumeter_billing_events_unknown_type_total')
      ?.get();
    expect(counted?.values[0]?.value).toBe(1);
  });
});
