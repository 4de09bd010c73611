import { StoreCoalescer } from './store-coalescer';

/**
 * Fake timers: every wait below is an exact, simulated duration, so the order and timing
 * asserted cannot depend on how busy the machine is (real timers flaked on 2 busy cores).
 */
const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Moves simulated time on by `ms`, running what falls due (and the promises it settles). */
const advance = (ms: number) => jest.advanceTimersByTimeAsync(ms);
/** Runs every timer until none is left, then gives what `p` settled to. */
async function settle<T>(p: Promise<T>): Promise<T> {
  await jest.runAllTimersAsync();
  return p;
}

describe('StoreCoalescer', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('stores submissions that arrive together in one round, never two writes at once, in order', async () => {
    const writes: number[][] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const c = new StoreCoalescer<number, number[]>(
      async (items) => items,
      async (items) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        writes.push(items);
        await tick(20);
        inFlight--;
      },
    );
    const first = [c.submit([1, 2]), c.submit([3])];
    await advance(5);
    const later = [c.submit([4]), c.submit([5, 6])];
    await settle(Promise.all([...first, ...later]));
    expect(writes).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(maxInFlight).toBe(1);
  });

  it('runs the next round’s lookup while this round’s write is in flight, and no further ahead', async () => {
    const log: string[] = [];
    const c = new StoreCoalescer<number, number[]>(
      async (items) => {
        log.push(`prepare ${items.join(',')}`);
        return items;
      },
      async (items) => {
        log.push(`write ${items.join(',')} start`);
        await tick(30);
        log.push(`write ${items.join(',')} end`);
      },
    );
    const a = c.submit([1]);
    await advance(5); // round 1 is being written
    const b = c.submit([2]);
    await advance(5);
    const d = c.submit([3]);
    await settle(Promise.all([a, b, d]));
    expect(log).toEqual([
      'prepare 1',
      'write 1 start',
      'prepare 2', // overlaps write 1
      'write 1 end',
      'write 2 start',
      'prepare 3', // only once write 1 is done: one round ahead at most
      'write 2 end',
      'write 3 start',
      'write 3 end',
    ]);
  });

  it('rejects every submission of a failed round, and recovers for the next', async () => {
    let fail = true;
    const c = new StoreCoalescer<number, number[]>(
      async (items) => items,
      async () => {
        if (fail) throw new Error('ClickHouse down');
      },
    );
    const results = await settle(Promise.allSettled([c.submit([1]), c.submit([2])]));
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    await expect(settle(c.submit([3]))).resolves.toBeUndefined();
    let lookupDown = true;
    const d = new StoreCoalescer<number, number[]>(
      async (items) => {
        if (lookupDown) throw new Error('lookup failed');
        return items;
      },
      async () => undefined,
    );
    await expect(settle(d.submit([1]))).rejects.toThrow('lookup failed');
    lookupDown = false;
    await expect(settle(d.submit([2]))).resolves.toBeUndefined();
  });

  it('lets a small round linger for more, up to lingerMs, and stores a full one at once', async () => {
    const writes: Array<{ items: number[]; at: number }> = [];
    const t0 = Date.now();
    const c = new StoreCoalescer<number, number[]>(
      async (items) => items,
      async (items) => {
        writes.push({ items, at: Date.now() - t0 });
      },
      { minItems: 4, lingerMs: 150 },
    );
    // Small: 1, then 2 and 3 within the linger — one round, stored 150 ms after 1 arrived.
    const small = c.submit([1]);
    await advance(40);
    const more = c.submit([2, 3]);
    await settle(Promise.all([small, more]));
    expect(writes).toEqual([{ items: [1, 2, 3], at: 150 }]);
    // Full: reaching minItems ends the linger at once, when 6 and 7 arrive 20 ms later.
    const t1 = Date.now() - t0;
    const a = c.submit([4, 5]);
    await advance(20);
    const b = c.submit([6, 7]);
    await settle(Promise.all([a, b]));
    expect(writes[1]).toEqual({ items: [4, 5, 6, 7], at: t1 + 20 });
  });
});
