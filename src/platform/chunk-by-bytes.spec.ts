import fc from 'fast-check';
import { chunkByBytes, sendHalvingWhenTooLarge } from './chunk-by-bytes';

describe('chunkByBytes', () => {
  it('keeps order, covers every item once, and stays under the bound unless one item alone is over it', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 500 }), { maxLength: 200 }),
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 1, max: 50 }),
        (sizes, max, count) => {
          const runs = chunkByBytes(sizes, max, count);
          let next = 0;
          for (const [a, b] of runs) {
            expect(a).toBe(next);
            expect(b).toBeGreaterThan(a);
            expect(b - a).toBeLessThanOrEqual(count);
            const bytes = sizes.slice(a, b).reduce((x, y) => x + y, 0);
            if (b - a > 1) expect(bytes).toBeLessThanOrEqual(max);
            next = b;
          }
          expect(next).toBe(sizes.length);
        },
      ),
    );
  });
});

describe('sendHalvingWhenTooLarge', () => {
  it('halves a refused run down to the single item that can never fit, sending the rest once each', async () => {
    const sent: number[] = [];
    const refused: number[] = [];
    const big = new Set([3]);
    await sendHalvingWhenTooLarge(
      0,
      8,
      async (a, b) => {
        // too large: more than 2 items, or any run holding item 3
        if (b - a > 2 || [...Array(b - a).keys()].some((k) => big.has(a + k))) throw new Error('too large');
        for (let i = a; i < b; i++) sent.push(i);
      },
      (e) => (e as Error).message === 'too large',
      (i) => refused.push(i),
    );
    expect(sent).toEqual([0, 1, 2, 4, 5, 6, 7]);
    expect(refused).toEqual([3]);
  });
});
