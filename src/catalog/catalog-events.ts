import { Static, Type } from '@sinclair/typebox';
import { defineBillingEvents, PayloadsOf } from '../platform/billing-events/billing-event-types';
import { KeyedBy, Matching, Nullable, Rfc3339, Text } from '../platform/billing-events/payload-schema';
import { SEED_GPU_TYPES } from './gpu-types';
import { BILLING_THRESHOLD_PATTERN, MONEY_PATTERN, PLAN_PATTERN, PRICE_PATTERN } from './patterns';

/**
 * The catalog's billing events (subject `gpumeter`): prices, plans and costs, each from an
 * instant on. A change names only what it changes.
 */
const Price = Matching(PRICE_PATTERN);
const PricesByGpuType = KeyedBy(SEED_GPU_TYPES, Price);

/** A `catalog.prices_changed` event's data: only the prices it names change. */
export const PriceChange = Type.Object({
  /** RFC 3339, any instant (ms precision). */
  effective_from: Rfc3339(),
  gpu_per_second: Type.Optional(PricesByGpuType),
  cpu_per_core_second: Type.Optional(Price),
  memory_per_gib_second: Type.Optional(Price),
});
export type PriceChange = Static<typeof PriceChange>;

/** A plan's terms as they are in force (and as an invoice document carries them). */
export const PlanTerms = Type.Object({
  plan: Type.String(),
  base_fee: Matching(MONEY_PATTERN),
  monthly_credits: Matching(MONEY_PATTERN),
});
export type PlanTerms = Static<typeof PlanTerms>;

/** A `catalog.plan_changed` event's data: a plan's terms from an instant on (or a new plan). */
export const PlanChange = Type.Object({
  effective_from: Rfc3339(),
  plan: Matching(PLAN_PATTERN),
  base_fee: Matching(MONEY_PATTERN),
  monthly_credits: Matching(MONEY_PATTERN),
  /**
   * Unbilled spend of an open month at which a threshold invoice is drawn up (USD); null: none.
   * Absent (every change before issue 15): the plan's threshold stays what it was.
   */
  billing_threshold: Type.Optional(Nullable(Matching(BILLING_THRESHOLD_PATTERN))),
});
export type PlanChange = Static<typeof PlanChange>;

/** What a provider's GPUs, cores and memory cost from an instant on (margin reports). */
export const CostChange = Type.Object({
  effective_from: Rfc3339(),
  provider: Text(128),
  gpu_per_second: Type.Optional(PricesByGpuType),
  cpu_per_core_second: Type.Optional(Price),
  memory_per_gib_second: Type.Optional(Price),
});
export type CostChange = Static<typeof CostChange>;

export const CATALOG_EVENTS = defineBillingEvents({
  'catalog.prices_changed': PriceChange,
  'catalog.plan_changed': PlanChange,
  'catalog.cost_changed': CostChange,
});

declare module '../platform/billing-events/billing-event-types' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- declaration merging
  interface BillingEventPayloads extends PayloadsOf<typeof CATALOG_EVENTS> {}
}
