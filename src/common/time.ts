/** Lengths of time in milliseconds, spelled once. */
export const SECOND_MS = 1000;
export const MINUTE_MS = 60 * SECOND_MS;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `GPUMETER_CLOCK_OFFSET`: a signed whole number of ms, s, m, h or d ("-36h", "+5d", "90s"); undefined if malformed. */
export function parseClockOffset(value: string): number | undefined {
  const m = /^([+-]?\d{1,12})(ms|s|m|h|d)$/.exec(value.trim());
  if (!m) return value.trim() === '' || value.trim() === '0' ? 0 : undefined;
  const ms = Number(m[1]) * UNIT_MS[m[2]];
  return Number.isSafeInteger(ms) ? ms : undefined;
}
