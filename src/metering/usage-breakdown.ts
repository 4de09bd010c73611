import { formatCents, parseCents } from '../catalog/money';
import { quantityInUnits } from '../catalog/rating';

/** One row of a usage view: a window, what it is grouped by, its quantities and its amount. */
export interface UsageRowView {
  window_start: string;
  window_end: string;
  gpu_type?: string;
  app_id?: string;
  function_id?: string;
  region?: string;
  gpu_seconds: string;
  gpu_ms: string;
  cpu_core_seconds: string;
  memory_gib_seconds: string;
  events: string;
  amount: string;
  currency: string;
}

/** What a breakdown ranks: apps, or functions (a function is named within its app). */
export type BreakdownBy = 'app_id' | 'function_id';
export const BREAKDOWN_KEYS: Record<BreakdownBy, readonly ('app_id' | 'function_id')[]> = {
  app_id: ['app_id'],
  function_id: ['app_id', 'function_id'],
};

export interface BreakdownCell {
  gpu_type: string;
  gpu_seconds: string;
  gpu_ms: string;
  amount: string;
}

export interface BreakdownRow {
  app_id: string;
  function_id?: string;
  gpu_seconds: string;
  gpu_ms: string;
  amount: string;
  by_gpu_type: BreakdownCell[];
}

export interface Breakdown {
  gpu_types: string[];
  rows: BreakdownRow[];
  /** Every entry after the first `limit`, summed per GPU type; null when there are none. */
  other: (Omit<BreakdownRow, 'app_id' | 'function_id'> & { count: number }) | null;
  totals: Omit<BreakdownRow, 'app_id' | 'function_id'>;
}

/** GPU-ms and amounts in whole cents (the rows' rounded amounts, summed exactly). */
interface Sum {
  gpuMs: bigint;
  cents: bigint;
  perType: Map<string, { gpuMs: bigint; cents: bigint }>;
}

function emptySum(): Sum {
  return { gpuMs: 0n, cents: 0n, perType: new Map() };
}

function add(sum: Sum, gpuType: string, gpuMs: bigint, cents: bigint): void {
  sum.gpuMs += gpuMs;
  sum.cents += cents;
  const cell = sum.perType.get(gpuType) ?? { gpuMs: 0n, cents: 0n };
  cell.gpuMs += gpuMs;
  cell.cents += cents;
  sum.perType.set(gpuType, cell);
}

function figures(sum: Sum, gpuTypes: readonly string[]) {
  return {
    gpu_seconds: quantityInUnits('gpu', sum.gpuMs),
    gpu_ms: sum.gpuMs.toString(),
    amount: formatCents(sum.cents),
    by_gpu_type: gpuTypes
      .filter((t) => sum.perType.has(t))
      .map((t) => {
        const c = sum.perType.get(t)!;
        return {
          gpu_type: t,
          gpu_seconds: quantityInUnits('gpu', c.gpuMs),
          gpu_ms: c.gpuMs.toString(),
          amount: formatCents(c.cents),
        };
      }),
  };
}

function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The top `limit` apps (or functions) by amount, then "other" for the rest, each with its
 * GPU-seconds and amount per GPU type. Built from /v1/usage rows grouped by the keys and
 * gpu_type: every amount here is a sum of those rows' rounded amounts (no second rounding),
 * so an entry's GPU types add up to its total, the entries and "other" add up to the
 * totals, and a one-month breakdown's cells are /v1/usage's rows for that month exactly.
 * Ties in amount are ordered by GPU-seconds, then by key, so the top is deterministic.
 */
export function buildBreakdown(rows: readonly UsageRowView[], by: BreakdownBy, limit: number): Breakdown {
  const keys = BREAKDOWN_KEYS[by];
  const entries = new Map<string, { app_id: string; function_id?: string; sum: Sum }>();
  const total = emptySum();
  const gpuTypes = new Set<string>();
  for (const r of rows) {
    const app = r.app_id ?? '';
    const fn = r.function_id ?? '';
    // A separator no id can hold (ids are printable), so (a, b) and (a', b') never collide.
    const id = keys.length === 1 ? app : `${app}\u0000${fn}`;
    const entry = entries.get(id) ?? {
      app_id: app,
      ...(keys.length === 2 ? { function_id: fn } : {}),
      sum: emptySum(),
    };
    const gpuType = r.gpu_type ?? '';
    const gpuMs = BigInt(r.gpu_ms);
    const cents = parseCents(r.amount);
    add(entry.sum, gpuType, gpuMs, cents);
    add(total, gpuType, gpuMs, cents);
    gpuTypes.add(gpuType);
    entries.set(id, entry);
  }
  const types = [...gpuTypes].sort(byteOrder);
  const ranked = [...entries.values()].sort(
    (a, b) =>
      (b.sum.cents > a.sum.cents ? 1 : b.sum.cents < a.sum.cents ? -1 : 0) ||
      (b.sum.gpuMs > a.sum.gpuMs ? 1 : b.sum.gpuMs < a.sum.gpuMs ? -1 : 0) ||
      byteOrder(a.app_id, b.app_id) ||
      byteOrder(a.function_id ?? '', b.function_id ?? ''),
  );
  const rest = ranked.slice(limit);
  const other = emptySum();
  for (const e of rest) for (const [t, c] of e.sum.perType) add(other, t, c.gpuMs, c.cents);
  return {
    gpu_types: types,
    rows: ranked.slice(0, limit).map((e) => ({
      app_id: e.app_id,
      ...(e.function_id === undefined ? {} : { function_id: e.function_id }),
      ...figures(e.sum, types),
    })),
    other: rest.length === 0 ? null : { count: rest.length, ...figures(other, types) },
    totals: figures(total, types),
  };
}
