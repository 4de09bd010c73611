import { randomUUID } from 'node:crypto';
import { BillingEventPayloads, BillingEventType, isKnownBillingEventType } from './billing-event-types';

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

/**
 * Whether this build knows the record's type. A record of another type (from a newer
 * gpumeter) is kept in the event log, applied by no projection and counted — never read as
 * some other type.
 */
export const hasKnownType = (e: BillingEventEnvelope): e is BillingEventEnvelope<BillingEventType> =>
  isKnownBillingEventType(e.type);

/** A type guard for filters: `events.filter(ofType('invoice.pushed'))` is BillingEvent<'invoice.pushed'>[]. */
export const ofType =
  <K extends BillingEventType>(...types: K[]) =>
  (event: BillingEvent): event is Extract<BillingEvent, { type: K }> =>
    (types as BillingEventType[]).includes(event.type);

/**
 * A projection of billing events into ClickHouse, over the types it `handles`. `apply` must
 * be idempotent; a projection that can write many events at once implements `applyBatch`
 * (called with its events in topic order) instead of receiving them one by one. `refuse`
 * says why the projection could not apply an event of a type it handles (null: it can): it
 * runs before publishing and on consuming, so nothing it refuses is published, and a record
 * it refuses on the topic is dead-lettered instead of stopping the projections behind it.
 * Only what `refuse` accepted reaches `apply`, so there `data` is the declared payload.
 */
export interface BillingEventProjection<K extends BillingEventType = BillingEventType> {
  readonly handles: readonly K[];
  refuse(event: BillingEventEnvelope<K>): string | null;
  apply(event: BillingEvent<K>): Promise<void>;
  applyBatch?(events: BillingEvent<K>[]): Promise<void>;
}
