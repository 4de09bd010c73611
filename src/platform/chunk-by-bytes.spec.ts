import fc from 'fast-check';
import { chunkByBytes } from './chunk-by-bytes';

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
