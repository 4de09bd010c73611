import { randomUUID } from 'node:crypto';

/** A billing domain event on billing.events.v1 (CloudEvents envelope, JSON). */
export interface BillingEvent<T = unknown> {
  specversion: '1.0';
  id: string;
  source: 'gpumeter';
  type: string;
  subject: string;
  time: string;
  data: T;
}

/** The subject of billing events that belong to no workspace (catalog, runs, agent tokens). */
export const SYSTEM_SUBJECT = 'gpumeter';

export function newBillingEvent<T>(
  type: string,
  workspaceId: string,
  data: T,
  at = new Date(),
): BillingEvent<T> {
  return {
    specversion: '1.0',
    id: randomUUID(),
    source: 'gpumeter',
    type,
    subject: workspaceId,
    time: at.toISOString(),
    data,
  };
}

/**
 * A projection of billing events into ClickHouse. `apply` must be idempotent; a projection
 * that can write many events at once implements `applyBatch` (called with its events in
 * topic order) instead of receiving them one by one. `refuse` says why the projection could
 * not apply an event of a type it handles (null: it can): it runs before publishing and on
 * consuming, so nothing it refuses is published, and a record it refuses on the topic is
 * dead-lettered instead of stopping the projections behind it.
 */
export interface BillingEventProjection {
  readonly handles: readonly string[];
  refuse(event: BillingEvent): string | null;
  apply(event: BillingEvent): Promise<void>;
  applyBatch?(events: BillingEvent[]): Promise<void>;
}
