import { centsToScaled, formatScaledExact } from '../catalog/money';
import { CostCatalog, CostTable } from '../catalog/cost-catalog';
import { PriceCatalog } from '../catalog/price-catalog';
import { ChargeKind, quantityInUnits, scaledPrice } from '../catalog/rating';

export const MARGIN_GROUP_KEYS = ['provider', 'gpu_type', 'region'] as const;
export type MarginGroupKey = (typeof MARGIN_GROUP_KEYS)[number];
export const DEFAULT_MARGIN_GROUP_BY: readonly MarginGroupKey[] = ['provider', 'gpu_type'];

/** Why usage has no cost: no provider on its events, a provider never costed, or no cost in force. */
export type UncoveredReason = 'no_provider' | 'unknown_provider' | 'no_cost_in_force';

/** A month's usage of one piece (the month cut at every price and cost change) and group. */
export interface ProviderUsage {
  piece: number;
  workspace_id: string;
  provider: string;
  gpu_type: string;
  region: string;
  gpu_ms: bigint;
  cpu_millicore_ms: bigint;
  memory_mib_ms: bigint;
}

/** Sums of one part of a group: quantities, list revenue, credits, cost (scaled, money.ts). */
interface Sums {
  gpu_ms: bigint;
  cpu_millicore_ms: bigint;
  memory_mib_ms: bigint;
  revenue: bigint;
  credits: bigint;
  cost: bigint;
  reasons: Set<UncoveredReason>;
}

const empty = (): Sums => ({
  gpu_ms: 0n,
  cpu_millicore_ms: 0n,
  memory_mib_ms: 0n,
  revenue: 0n,
  credits: 0n,
  cost: 0n,
  reasons: new Set(),
});

export interface MarginFigures {
  gpu_seconds: string;
  core_seconds: string;
  gib_seconds: string;
  revenue_list: string;
  credits: string;
  revenue: string;
}

export interface MarginRow extends MarginFigures {
  provider?: string;
  gpu_type?: string;
  region?: string;
  /** Of the covered usage only: what it cost, and the margin on its revenue after credits. */
  cost: string;
  margin: string;
  margin_percent: string | null;
  /** Usage no cost covers: never counted at zero cost, left out of cost and margin. */
  uncovered: (MarginFigures & { reasons: UncoveredReason[] }) | null;
}

export interface MarginReport {
  rows: MarginRow[];
  totals: Omit<MarginRow, MarginGroupKey>;
}

const KIND_QUANTITY: Record<ChargeKind, 'gpu_ms' | 'cpu_millicore_ms' | 'memory_mib_ms'> = {
  gpu: 'gpu_ms',
  cpu: 'cpu_millicore_ms',
  memory: 'memory_mib_ms',
};

function costOf(table: CostTable | undefined, kind: ChargeKind, gpuType: string): string | undefined {
  if (!table) return undefined;
  if (kind === 'gpu') return table.gpu_per_second[gpuType];
  return kind === 'cpu' ? table.cpu_per_core_second : table.memory_per_gib_second;
}

/**
 * Splits `credits` (whole cents, per workspace) over its cells in proportion to their list
 * revenue, in whole cents (largest remainder; ties by cell key): exact, and the parts add up
 * to the credits. A workspace with no revenue keeps its credits unallocated (there are none:
 * credits never exceed usage).
 */
function allocateCredits(cells: Map<string, Sums>, credits: bigint): void {
  const keys = [...cells.keys()].sort();
  const total = keys.reduce((a, k) => a + cells.get(k)!.revenue, 0n);
  if (total <= 0n || credits <= 0n) return;
  const shares = keys.map((k) => {
    const n = credits * cells.get(k)!.revenue;
    return { k, cents: n / total, rest: n % total };
  });
  let left = credits - shares.reduce((a, s) => a + s.cents, 0n);
  for (const s of [...shares].sort((a, b) =>
    b.rest > a.rest ? 1 : b.rest < a.rest ? -1 : a.k < b.k ? -1 : 1,
  )) {
    if (left <= 0n) break;
    s.cents += 1n;
    left -= 1n;
  }
  for (const s of shares) cells.get(s.k)!.credits = centsToScaled(s.cents);
}

function add(into: Sums, from: Sums): void {
  into.gpu_ms += from.gpu_ms;
  into.cpu_millicore_ms += from.cpu_millicore_ms;
  into.memory_mib_ms += from.memory_mib_ms;
  into.revenue += from.revenue;
  into.credits += from.credits;
  into.cost += from.cost;
  for (const r of from.reasons) into.reasons.add(r);
}

function figures(s: Sums): MarginFigures {
  return {
    gpu_seconds: quantityInUnits('gpu', s.gpu_ms),
    core_seconds: quantityInUnits('cpu', s.cpu_millicore_ms),
    gib_seconds: quantityInUnits('memory', s.memory_mib_ms),
    revenue_list: formatScaledExact(s.revenue),
    credits: formatScaledExact(s.credits),
    revenue: formatScaledExact(s.revenue - s.credits),
  };
}

/** margin ÷ revenue × 100, half-up to two decimals (a ratio, not money); null without revenue. */
function percent(margin: bigint, revenue: bigint): string | null {
  if (revenue === 0n) return null;
  const neg = margin < 0n !== revenue < 0n;
  const m = margin < 0n ? -margin : margin;
  const r = revenue < 0n ? -revenue : revenue;
  const hundredths = (m * 10_000n * 2n + r) / (2n * r);
  return `${neg && hundredths > 0n ? '-' : ''}${hundredths / 100n}.${(hundredths % 100n).toString().padStart(2, '0')}`;
}

function row(covered: Sums, uncovered: Sums | undefined): Omit<MarginRow, MarginGroupKey> {
  const margin = covered.revenue - covered.credits - covered.cost;
  const hasUncovered =
    uncovered !== undefined &&
    (uncovered.gpu_ms > 0n || uncovered.cpu_millicore_ms > 0n || uncovered.memory_mib_ms > 0n);
  return {
    ...figures(covered),
    cost: formatScaledExact(covered.cost),
    margin: formatScaledExact(margin),
    margin_percent: percent(margin, covered.revenue - covered.credits),
    uncovered: hasUncovered ? { ...figures(uncovered), reasons: [...uncovered.reasons].sort() } : null,
  };
}

/**
 * The margin report of a month (pure; src/reports/README.md): each piece of usage rated at the
 * list prices in force then (revenue), its cost at its provider's costs in force then, each
 * workspace's credits for the month spread over its usage in proportion to list revenue;
 * grouped by the keys asked for. Exact: amounts are unrounded decimals that add up to the
 * totals. Usage without a cost in force is reported apart (`uncovered`, with why), never as
 * costing nothing.
 */
export function marginReport(input: {
  pieces: ReadonlyArray<{ fromMs: number; toMs: number }>;
  usage: readonly ProviderUsage[];
  prices: PriceCatalog;
  costs: CostCatalog;
  credits: ReadonlyMap<string, bigint>; // whole cents per workspace
  groupBy: readonly MarginGroupKey[];
}): MarginReport {
  const groupKey = (u: ProviderUsage) => JSON.stringify(input.groupBy.map((k) => u[k]));
  // Cells: workspace × group × covered, so credits are spread within a workspace.
  const byWorkspace = new Map<string, Map<string, Sums>>();
  for (const u of input.usage) {
    const piece = input.pieces[u.piece];
    if (!piece) throw new Error(`usage refers to unknown piece ${u.piece}`);
    const prices = input.prices.pricesAt(piece.fromMs);
    const costs = input.costs.costsAt(u.provider, piece.fromMs);
    const cells = byWorkspace.get(u.workspace_id) ?? new Map<string, Sums>();
    byWorkspace.set(u.workspace_id, cells);
    for (const kind of ['gpu', 'cpu', 'memory'] as const) {
      const quantity = u[KIND_QUANTITY[kind]];
      if (quantity === 0n) continue;
      const price =
        kind === 'gpu'
          ? input.prices.gpuPrice(prices, u.gpu_type).toString()
          : kind === 'cpu'
            ? prices.cpu_per_core_second
            : prices.memory_per_gib_second;
      const cost = costOf(costs, kind, u.gpu_type);
      const covered = cost !== undefined;
      const key = `${groupKey(u)}|${covered ? 'c' : 'u'}`;
      const cell = cells.get(key) ?? empty();
      cells.set(key, cell);
      cell[KIND_QUANTITY[kind]] += quantity;
      cell.revenue += scaledPrice(kind, quantity, price);
      if (covered) cell.cost += scaledPrice(kind, quantity, cost);
      else
        cell.reasons.add(
          u.provider === ''
            ? 'no_provider'
            : input.costs.knows(u.provider)
              ? 'no_cost_in_force'
              : 'unknown_provider',
        );
    }
  }
  const groups = new Map<string, { covered: Sums; uncovered: Sums }>();
  const all = { covered: empty(), uncovered: empty() };
  for (const [ws, cells] of byWorkspace) {
    allocateCredits(cells, input.credits.get(ws) ?? 0n);
    for (const [key, cell] of cells) {
      const [group, part] = [key.slice(0, key.lastIndexOf('|')), key.slice(key.lastIndexOf('|') + 1)];
      const g = groups.get(group) ?? { covered: empty(), uncovered: empty() };
      groups.set(group, g);
      add(part === 'c' ? g.covered : g.uncovered, cell);
      add(part === 'c' ? all.covered : all.uncovered, cell);
    }
  }
  const rows = [...groups]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([group, g]) => {
      const values = JSON.parse(group) as string[];
      const named = Object.fromEntries(input.groupBy.map((k, i) => [k, values[i]]));
      return { ...named, ...row(g.covered, g.uncovered) };
    });
  return { rows, totals: row(all.covered, all.uncovered) };
}
