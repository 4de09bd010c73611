import type { CostChange } from './catalog-events';

export type { CostChange } from './catalog-events';

/**
 * What the GPUs cost: per provider, effective-dated, operator-managed (`catalog.cost_changed`
 * events, POST /v1/catalog/cost-changes), beside the price catalog. A change names a provider
 * and the costs it sets from an instant on — per GPU type per GPU-second, per core-second of
 * CPU, per GiB-second of memory; what it does not name stays as it was. Nothing is assumed:
 * a cost that was never set is not in force (margin reports call that usage uncovered), and
 * "0" must be said to mean free. Pure.
 */

/** A provider's costs in force at an instant; a charge absent here has no cost in force. */
export interface CostTable {
  gpu_per_second: Record<string, string>;
  cpu_per_core_second?: string;
  memory_per_gib_second?: string;
}

export class CostCatalog {
  /** Per provider, its tables in effective order: each in force from `at` to the next. */
  private readonly steps = new Map<string, { at: number; table: CostTable }[]>();

  constructor(changes: readonly CostChange[] = []) {
    const sorted = changes
      .map((c, i) => ({ c, i, at: Date.parse(c.effective_from) }))
      .sort((a, b) => a.at - b.at || a.i - b.i);
    for (const { c, at } of sorted) {
      const steps = this.steps.get(c.provider) ?? [];
      const before = steps[steps.length - 1]?.table ?? { gpu_per_second: {} };
      const table: CostTable = {
        gpu_per_second: { ...before.gpu_per_second, ...(c.gpu_per_second ?? {}) },
        cpu_per_core_second: c.cpu_per_core_second ?? before.cpu_per_core_second,
        memory_per_gib_second: c.memory_per_gib_second ?? before.memory_per_gib_second,
      };
      const last = steps[steps.length - 1];
      if (last?.at === at) last.table = table;
      else steps.push({ at, table });
      this.steps.set(c.provider, steps);
    }
  }

  /** Whether any cost was ever set for the provider. */
  knows(provider: string): boolean {
    return this.steps.has(provider);
  }

  /** The provider's costs in force at `ms`; undefined before its first change (or never set). */
  costsAt(provider: string, ms: number): CostTable | undefined {
    let found: CostTable | undefined;
    for (const step of this.steps.get(provider) ?? []) if (step.at <= ms) found = step.table;
    return found;
  }

  /** Every instant inside (fromMs, toMs) at which some provider's costs change. */
  cutsWithin(fromMs: number, toMs: number): number[] {
    const cuts = new Set<number>();
    for (const steps of this.steps.values())
      for (const { at } of steps) if (at > fromMs && at < toMs) cuts.add(at);
    return [...cuts].sort((a, b) => a - b);
  }
}
