import { HOUR_MS } from '../common/time';
/**
 * Hours that a price change cuts in two. Usage is rolled up per hour, so an hour rolled up
 * whole can only be priced whole: for an hour in which a price segment starts, the rollup
 * cannot say how much of its usage came before the change. Those few hours are summed from
 * the raw events instead, clipped to each piece — the same clipping the hourly view applies
 * at hour boundaries, so the pieces of an hour add up to its rollup exactly.
 */

export interface HourPiece {
  segment: number; // index of the price segment this piece lies in
  fromMs: number;
  toMs: number;
}

export interface SplitHour {
  hourMs: number;
  pieces: HourPiece[];
}

/** The segment a span starting at `ms` lies in: segment starts at or before it, less one. */
export function segmentAt(segmentStartsMs: readonly number[], ms: number): number {
  return segmentStartsMs.filter((s) => s <= ms).length - 1;
}

/**
 * Every hour a segment starts inside of (not on its first millisecond), cut at each start
 * inside it. `segmentStartsMs` ascending; the first one (the span's start) is a whole hour.
 */
export function splitHours(segmentStartsMs: readonly number[]): SplitHour[] {
  const cutsByHour = new Map<number, number[]>();
  for (const start of segmentStartsMs) {
    const offset = start % HOUR_MS;
    if (offset === 0) continue;
    const hourMs = start - offset;
    cutsByHour.set(hourMs, [...(cutsByHour.get(hourMs) ?? []), start]);
  }
  return [...cutsByHour.entries()]
    .sort(([a], [b]) => a - b)
    .map(([hourMs, cuts]) => {
      const bounds = [hourMs, ...cuts.sort((a, b) => a - b), hourMs + HOUR_MS];
      const pieces = bounds.slice(0, -1).map((fromMs, i) => {
        const segment = segmentAt(segmentStartsMs, fromMs);
        if (segment < 0)
          throw new Error(`hour ${new Date(hourMs).toISOString()} starts before the first segment`);
        return { segment, fromMs, toMs: bounds[i + 1] };
      });
      return { hourMs, pieces };
    });
}

/** The instants the hours are cut at (each piece's start but an hour's first). */
export function priceCuts(split: readonly SplitHour[]): number[] {
  return split.flatMap((h) => h.pieces.slice(1).map((p) => p.fromMs));
}

/** A month as its partition in ClickHouse names it (toYYYYMM, UTC): 202611. */
export function monthNumber(ms: number): number {
  const d = new Date(ms);
  return d.getUTCFullYear() * 100 + d.getUTCMonth() + 1;
}

/** A month number (202611) as the API writes a month: "2026-11". */
export function monthLabel(month: number): string {
  return `${String(month).slice(0, 4)}-${String(month).slice(4)}`;
}

/**
 * A retired month's pieces are stored cut at the instants recorded when it was retired; an
 * hour is read from them only if it is cut at exactly those instants now. A month's prices
 * cannot change once it is closed (invoicing/closed-period-guard.ts), so a difference means
 * that rule was broken: refused loudly rather than priced from pieces that do not fit.
 */
export function checkRetiredCuts(hour: SplitHour, recordedCutsMs: readonly number[]): void {
  const now = priceCuts([hour]);
  const then = recordedCutsMs.filter((c) => c >= hour.hourMs && c < hour.hourMs + HOUR_MS);
  if (now.length !== then.length || now.some((c, i) => c !== then[i]))
    throw new Error(
      `usage of ${new Date(hour.hourMs).toISOString()} was retired (its raw events dropped) with price changes at [${then
        .map((c) => new Date(c).toISOString())
        .join(', ')}], but the catalog now changes prices at [${now
        .map((c) => new Date(c).toISOString())
        .join(', ')}]: a closed month's prices must not change`,
    );
}
