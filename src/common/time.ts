/** Lengths of time in milliseconds, spelled once. */
export const SECOND_MS = 1000;
export const MINUTE_MS = 60 * SECOND_MS;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

const UNIT_MS: Record<string, number> = { ms: 1, s: SECOND_MS, m: MINUTE_MS, h: HOUR_MS, d: DAY_MS };

/** The form of `GPUMETER_CLOCK_OFFSET`: empty, 0, or a signed whole number of ms, s, m, h or d. */
export const CLOCK_OFFSET_PATTERN = /^\s*(0|([+-]?\d{1,12})(ms|s|m|h|d))?\s*$/;

/** `GPUMETER_CLOCK_OFFSET` in ms ("-36h", "+5d", "90s"; empty or 0: none); undefined if malformed. */
export function parseClockOffset(value: string): number | undefined {
  const m = CLOCK_OFFSET_PATTERN.exec(value);
  if (!m) return undefined;
  if (m[2] === undefined) return 0;
  const ms = Number(m[2]) * UNIT_MS[m[3]];
  return Number.isSafeInteger(ms) ? ms : undefined;
}
