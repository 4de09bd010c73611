import { randomUUID } from 'node:crypto';
import { BillingEventPayloads, BillingEventType } from './billing-event-types';

export type { BillingEventPayloads, BillingEventType } from './billing-event-types';

/**
 * A record of billing.events.v1 as it is before anything is known of its payload: a
 * CloudEvents envelope (JSON) whose `data` is whatever the record holds. `refuse` sees this
 * (it decides whether `data` is what the type says); the event log stores it, whatever the
 * type, even one this build does not know.
 */
export interface BillingEventEnvelope<T extends string = string, D = unknown> {
  specversion: '1.0';
  id: string;
  source: 'gpumeter';
  type: T;
  subject: string;
  time: string;
  data: D;
}

/**
 * A billing event of a type this build knows, with the payload its type declares
 * (BillingEventPayloads). `BillingEvent` alone is the union of every type, so a `switch` on
 * `type` narrows `data`; `BillingEvent<'invoice.paid' | 'invoice.payment_failed'>` is one
 * of those two.
 */
export type BillingEvent<K extends BillingEventType = BillingEventType> = {
  [T in K]: BillingEventEnvelope<T, BillingEventPayloads[T]>;
}[K];

/** The subject of billing events that belong to no workspace (catalog, runs, agent tokens). */
export const SYSTEM_SUBJECT = 'gpumeter';

export function newBillingEvent<K extends BillingEventType>(
  type: K,
  workspaceId: string,
  data: BillingEventPayloads[K],
  /** The event's time: the service's Clock (platform/clock.ts), never the machine's directly. */
  at: Date,
): BillingEvent<K> {
  const event: BillingEventEnvelope<K, BillingEventPayloads[K]> = {
    specversion: '1.0',
    id: randomUUID(),
    source: 'gpumeter',
    type,
    subject: workspaceId,
    time: at.toISOString(),
    data,
  };
  // The mapped union over a single K is this envelope; TypeScript cannot see it for a generic K.
  return event;
}

/** A type guard for filters: `events.filter(ofType('invoice.pushed'))` is BillingEvent<'invoice.pushed'>[]. */
export const ofType =
  <K extends BillingEventType>(...types: K[]) =>
  (event: BillingEvent): event is Extract<BillingEvent, { type: K }> =>
    (types as BillingEventType[]).includes(event.type);

/**
 * A projection of billing events into ClickHouse, over the types it `handles`. The service
 * finds every provider that is one at start-up (no module registers it by hand) and hands it
 * its events in topic order, a batch at a time; `apply` must be idempotent. Only events
 * their type's schema accepted reach it (BillingEventSchemas), so `data` is the declared
 * payload and a projection never re-checks it.
 */
export abstract class BillingEventProjection<K extends BillingEventType = BillingEventType> {
  abstract readonly handles: readonly K[];
  abstract apply(events: readonly BillingEvent<K>[]): Promise<void>;
}

/**
 * The base of a projection of these types: `class InvoiceProjection extends
 * ProjectionOf('invoice.drafted', …)` declares its types once; `HandledBy<typeof Base>` names
 * them for `apply`'s signature.
 */
export function ProjectionOf<const K extends BillingEventType>(...types: K[]) {
  abstract class Projection extends BillingEventProjection<K> {
    readonly handles: readonly K[] = types;
  }
  return Projection;
}

/** The types a ProjectionOf(…) base handles. */
export type HandledBy<B extends abstract new (...args: never[]) => BillingEventProjection<BillingEventType>> =
  InstanceType<B> extends BillingEventProjection<infer K> ? K : never;
