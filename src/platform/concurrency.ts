/**
 * Runs `fn` over `items` with at most `limit` calls in flight; resolves when all settled.
 * (p-limit/p-map are ESM-only from their current majors and this service is CommonJS.)
 */
export async function forEachWithConcurrency<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
