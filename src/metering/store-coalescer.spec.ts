import { StoreCoalescer } from './store-coalescer';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('StoreCoalescer', () => {
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
    await tick(5);
    const later = [c.submit([4]), c.submit([5, 6])];
    await Promise.all([...first, ...later]);
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
    await tick(5); // round 1 is being written
    const b = c.submit([2]);
    await tick(5);
    const d = c.submit([3]);
    await Promise.all([a, b, d]);
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
    const results = await Promise.allSettled([c.submit([1]), c.submit([2])]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    await expect(c.submit([3])).resolves.toBeUndefined();
    let lookupDown = true;
    const d = new StoreCoalescer<number, number[]>(
      async (items) => {
        if (lookupDown) throw new Error('lookup failed');
        return items;
      },
      async () => undefined,
    );
    await expect(d.submit([1])).rejects.toThrow('lookup failed');
    lookupDown = false;
    await expect(d.submit([2])).resolves.toBeUndefined();
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
    // Small: 1, then 2 and 3 within the linger — one round, stored about 150 ms after 1 arrived.
    const small = c.submit([1]);
    await tick(40);
    const more = c.submit([2, 3]);
    await Promise.all([small, more]);
    expect(writes.map((w) => w.items)).toEqual([[1, 2, 3]]);
    expect(writes[0].at).toBeGreaterThanOrEqual(140);
    expect(writes[0].at).toBeLessThan(400);
    // Full: reaching minItems ends the linger at once.
    const t1 = Date.now() - t0;
    const a = c.submit([4, 5]);
    await tick(20);
    const b = c.submit([6, 7]);
    await Promise.all([a, b]);
    expect(writes[1].items).toEqual([4, 5, 6, 7]);
    expect(writes[1].at - t1).toBeLessThan(120);
  });
});
