/** Polls `check` until it holds; fails naming `what` when it does not within the time. */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The start of the UTC month `add` months from the one holding `ms`. */
export function monthStart(ms: number, add = 0): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + add, 1);
}

/** "YYYY-MM" of the UTC month holding `ms`. */
export const periodOf = (ms: number): string => new Date(ms).toISOString().slice(0, 7);
