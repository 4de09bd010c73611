/**
 * Group commit for the consumer: partitions are consumed concurrently, and the batches that
 * arrive together are stored in one round — one dedupe lookup (`prepare`) and one ClickHouse
 * insert (`write`). Two stages, pipelined: the next round's lookup runs while this round's
 * insert is in flight (`prepare` must treat the keys of a round still being written as taken:
 * a lookup cannot see rows not yet inserted), but inserts run one at a time, in order, so no
 * two inserts of this process race on the same (source, id). Each caller learns whether its
 * own items are stored (its round's insert succeeded) and only then commits its offsets.
 *
 * A small round lingers: with fewer than `minItems` items it waits up to `lingerMs` after its
 * first item arrived for more (it goes at once when `minItems` is reached). ClickHouse makes
 * a part per insert and merges parts in the background, so fewer, larger inserts cost it
 * less: at a moderate rate, many small rounds spent more of the shared cores on merges than
 * on the inserts themselves (BENCHMARKS.md). The linger bounds what it adds to freshness.
 */
export interface LingerOptions {
  minItems: number;
  lingerMs: number;
}

export class StoreCoalescer<T, P> {
  private pending: Array<{ items: T[]; resolve: () => void; reject: (e: unknown) => void }> = [];
  private pendingItems = 0;
  private firstPendingAt = 0;
  /** Ends a linger early (set while lingering). */
  private wake?: () => void;
  private running = false;
  /** The write of the latest round (never rejects: failures go to that round's callers). */
  private lastWrite: Promise<void> = Promise.resolve();
  /** The write of the round before it: awaited before the next lookup. */
  private writeBefore: Promise<void> = Promise.resolve();

  constructor(
    private readonly prepare: (items: T[]) => Promise<P>,
    private readonly write: (prepared: P) => Promise<void>,
    private readonly linger: LingerOptions = { minItems: 1, lingerMs: 0 },
  ) {}

  submit(items: T[]): Promise<void> {
    if (items.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      if (this.pending.length === 0) this.firstPendingAt = Date.now();
      this.pending.push({ items, resolve, reject });
      this.pendingItems += items.length;
      if (this.pendingItems >= this.linger.minItems) this.wake?.();
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
      await this.lingerForMore();
      const round = this.pending;
      this.pending = [];
      this.pendingItems = 0;
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

  /** Waits, if the pending round is small and young, until it is large or `lingerMs` old. */
  private async lingerForMore(): Promise<void> {
    const wait = this.firstPendingAt + this.linger.lingerMs - Date.now();
    if (wait <= 0 || this.pendingItems >= this.linger.minItems) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.wake?.(), wait);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }
}
