/**
 * Group commit for the consumer: partitions are consumed concurrently, and the batches that
 * arrive together are stored in one round — one dedupe lookup (`prepare`) and one ClickHouse
 * insert (`write`). Two stages, pipelined: the next round's lookup runs while this round's
 * insert is in flight (`prepare` must treat the keys of a round still being written as taken:
 * a lookup cannot see rows not yet inserted), but inserts run one at a time, in order, so no
 * two inserts of this process race on the same (source, id). Each caller learns whether its
 * own items are stored (its round's insert succeeded) and only then commits its offsets.
 */
export class StoreCoalescer<T, P> {
  private pending: Array<{ items: T[]; resolve: () => void; reject: (e: unknown) => void }> = [];
  private running = false;
  /** The write of the latest round (never rejects: failures go to that round's callers). */
  private lastWrite: Promise<void> = Promise.resolve();
  /** The write of the round before it: awaited before the next lookup. */
  private writeBefore: Promise<void> = Promise.resolve();

  constructor(
    private readonly prepare: (items: T[]) => Promise<P>,
    private readonly write: (prepared: P) => Promise<void>,
  ) {}

  submit(items: T[]): Promise<void> {
    if (items.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ items, resolve, reject });
      if (!this.running) {
        this.running = true;
        // Let the other partitions of the same fetch join this round.
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      // At most one round ahead: the round before the last must be written before the next
      // lookup, so a lookup overlaps one insert, never a queue of them.
      await this.writeBefore;
      const round = this.pending;
      this.pending = [];
      let prepared: P;
      try {
        prepared = await this.prepare(round.flatMap((r) => r.items));
      } catch (e) {
        for (const r of round) r.reject(e);
        continue;
      }
      const written = this.lastWrite.then(() => this.write(prepared));
      written.then(
        () => round.forEach((r) => r.resolve()),
        (e) => round.forEach((r) => r.reject(e)),
      );
      this.writeBefore = this.lastWrite;
      this.lastWrite = written.catch(() => undefined);
    }
    this.running = false;
  }
}
