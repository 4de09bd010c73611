/**
 * Group commit for the consumer: partitions are consumed concurrently, and the batches that
 * arrive together are stored with one dedupe lookup and one ClickHouse insert. Flushes run
 * one at a time, so no two inserts of this process can race on the same (source, id); each
 * caller learns whether its own events are stored and only then commits its own offsets.
 */
export class StoreCoalescer<T> {
  private pending: Array<{ items: T[]; resolve: () => void; reject: (e: unknown) => void }> = [];
  private running = false;

  constructor(private readonly storeAll: (items: T[]) => Promise<void>) {}

  submit(items: T[]): Promise<void> {
    if (items.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ items, resolve, reject });
      if (!this.running) {
        this.running = true;
        // Let the other partitions of the same fetch join this flush.
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const round = this.pending;
      this.pending = [];
      try {
        await this.storeAll(round.flatMap((r) => r.items));
        for (const r of round) r.resolve();
      } catch (e) {
        for (const r of round) r.reject(e);
      }
    }
    this.running = false;
  }
}
