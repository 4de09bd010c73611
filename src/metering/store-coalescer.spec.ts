import { StoreCoalescer } from './store-coalescer';

describe('StoreCoalescer', () => {
  it('stores submissions that arrive together in one call, and never two calls at once', async () => {
    const calls: number[][] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const c = new StoreCoalescer<number>(async (items) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      calls.push(items);
      await new Promise((r) => setTimeout(r, 20));
      inFlight--;
    });
    const first = [c.submit([1, 2]), c.submit([3])];
    await new Promise((r) => setTimeout(r, 5));
    const later = [c.submit([4]), c.submit([5, 6])];
    await Promise.all([...first, ...later]);
    expect(calls).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(maxInFlight).toBe(1);
  });
  it('rejects every submission of a failed round, and recovers for the next', async () => {
    let fail = true;
    const c = new StoreCoalescer<number>(async () => {
      if (fail) throw new Error('ClickHouse down');
    });
    const results = await Promise.allSettled([c.submit([1]), c.submit([2])]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    await expect(c.submit([3])).resolves.toBeUndefined();
  });
});
