import { SEED_PLANS, SEED_PRICES } from './catalog-seed';
import { Money } from './money';
import type { PlanChange, PlanTerms, PriceChange } from './catalog-events';

export type { PlanChange, PlanTerms, PriceChange } from './catalog-events';

/** Every price in force at one instant (decimal strings, USD per unit-second). */
export interface PriceTable {
  gpu_per_second: Record<string, string>;
  cpu_per_core_second: string;
  memory_per_gib_second: string;
}

/** A span of time with one price table: rating multiplies quantities in it by these prices. */
export interface PriceSegment {
  from_ms: number;
  to_ms: number;
  prices: PriceTable;
}

/**
 * The effective-dated catalog: the seed, then changes in the order they take effect (ties
 * in the order they were published). Pure and immutable; built from the catalog events.
 *
 * A price change takes effect from any instant; a period that spans changes is rated
 * piecewise by `segments` (an hour a change falls inside of is summed from raw events per
 * piece, see metering/price-split-hours.ts).
 */
export class PriceCatalog {
  private readonly priceSteps: { at: number; table: PriceTable }[];
  private readonly planSteps: { at: number; plan: string; terms: PlanTerms; threshold: string | null }[];

  constructor(priceChanges: readonly PriceChange[] = [], planChanges: readonly PlanChange[] = []) {
    let table: PriceTable = {
      gpu_per_second: { ...SEED_PRICES.gpu_per_second },
      cpu_per_core_second: SEED_PRICES.cpu_per_core_second,
      memory_per_gib_second: SEED_PRICES.memory_per_gib_second,
    };
    this.priceSteps = [{ at: Number.MIN_SAFE_INTEGER, table }];
    const sorted = priceChanges
      .map((c, i) => ({ c, i, at: Date.parse(c.effective_from) }))
      .sort((a, b) => a.at - b.at || a.i - b.i);
    for (const { c, at } of sorted) {
      // Applied in effective order, so `table` is what was in force just before `at`.
      table = {
        gpu_per_second: { ...table.gpu_per_second, ...(c.gpu_per_second ?? {}) },
        cpu_per_core_second: c.cpu_per_core_second ?? table.cpu_per_core_second,
        memory_per_gib_second: c.memory_per_gib_second ?? table.memory_per_gib_second,
      };
      const last = this.priceSteps[this.priceSteps.length - 1];
      if (last.at === at) last.table = table;
      else this.priceSteps.push({ at, table });
    }
    this.planSteps = Object.entries(SEED_PLANS).map(([plan, t]) => ({
      at: Number.MIN_SAFE_INTEGER,
      plan,
      terms: { plan, ...t },
      threshold: null,
    }));
    planChanges
      .map((c, i) => ({ c, i, at: Date.parse(c.effective_from) }))
      .sort((a, b) => a.at - b.at || a.i - b.i)
      .forEach(({ c, at }) =>
        this.planSteps.push({
          at,
          plan: c.plan,
          terms: { plan: c.plan, base_fee: c.base_fee, monthly_credits: c.monthly_credits },
          threshold:
            c.billing_threshold === undefined
              ? (this.planStepAt(c.plan, at)?.threshold ?? null)
              : c.billing_threshold,
        }),
      );
  }

  /** The prices in force at `ms`. */
  pricesAt(ms: number): PriceTable {
    let found = this.priceSteps[0].table;
    for (const step of this.priceSteps) if (step.at <= ms) found = step.table;
    return found;
  }

  /** [fromMs, toMs) cut at every price change inside it, each piece with its prices. */
  segments(fromMs: number, toMs: number): PriceSegment[] {
    const cuts = this.priceSteps.map((s) => s.at).filter((at) => at > fromMs && at < toMs);
    const bounds = [fromMs, ...cuts, toMs];
    return bounds
      .slice(0, -1)
      .map((from, i) => ({ from_ms: from, to_ms: bounds[i + 1], prices: this.pricesAt(from) }));
  }

  /** A plan's terms in force at `ms`; undefined for a plan the catalog does not know. */
  planAt(plan: string, ms: number): PlanTerms | undefined {
    return this.planStepAt(plan, ms)?.terms;
  }

  /**
   * The terms a plan bills a month [fromMs, toMs) on: those in force at its start; for a plan
   * that only takes effect inside the month (a new plan a workspace joined that month), its
   * first terms in it. Undefined when the plan has no terms at all before the month ends.
   */
  planTermsDuring(plan: string, fromMs: number, toMs: number): PlanTerms | undefined {
    return this.planAt(plan, fromMs) ?? this.planSteps.find((s) => s.plan === plan && s.at < toMs)?.terms;
  }

  /** The first instant a plan has terms, or undefined for a plan the catalog does not know. */
  planStartMs(plan: string): number | undefined {
    const first = this.planSteps.find((s) => s.plan === plan);
    return first?.at;
  }

  /** A plan's billing threshold in force at `ms` (USD), or null when it has none. */
  billingThresholdAt(plan: string, ms: number): string | null {
    return this.planStepAt(plan, ms)?.threshold ?? null;
  }

  private planStepAt(plan: string, ms: number) {
    let found: (typeof this.planSteps)[number] | undefined;
    for (const step of this.planSteps) if (step.plan === plan && step.at <= ms) found = step;
    return found;
  }

  knownPlans(): string[] {
    return [...new Set(this.planSteps.map((s) => s.plan))];
  }

  gpuPrice(prices: PriceTable, gpuType: string): Money {
    const p = prices.gpu_per_second[gpuType];
    if (p === undefined) throw new Error(`no price for GPU type ${gpuType}`);
    return new Money(p);
  }
}
