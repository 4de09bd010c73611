import fc from 'fast-check';
import { Money } from '../catalog/money';
import { buildBreakdown } from './usage-breakdown';
import type { UsageRowView } from './usage-breakdown';

function row(app: string, fn: string, gpuType: string, gpuMs: bigint, cents: number): UsageRowView {
  return {
    window_start: '2026-11-01T00:00:00.000Z',
    window_end: '2026-12-01T00:00:00.000Z',
    app_id: app,
    function_id: fn,
    gpu_type: gpuType,
    gpu_seconds: '0',
    gpu_ms: gpuMs.toString(),
    cpu_core_seconds: '0',
    memory_gib_seconds: '0',
    events: '1',
    amount: (cents / 100).toFixed(2),
    currency: 'usd',
  };
}

describe('buildBreakdown', () => {
  it('ranks by amount, sums the rest into other, and keeps every figure exact', () => {
    const rows = [
      row('train', 'step', 'H100', 7300n, 801),
      row('train', 'step', 'A100', 1000n, 99),
      row('serve', 'infer', 'L4', 2500n, 900),
      row('batch', 'embed', 'H100', 100n, 1),
      row('tiny', 'noop', 'L4', 1n, 1),
    ];
    const b = buildBreakdown(rows, 'app_id', 2);
    expect(b.gpu_types).toEqual(['A100', 'H100', 'L4']);
    expect(b.rows.map((r) => [r.app_id, r.amount, r.gpu_seconds])).toEqual([
      ['train', '9.00', '8.3'],
      ['serve', '9.00', '2.5'], // same amount: more GPU-seconds first
    ]);
    expect(b.rows[0].by_gpu_type).toEqual([
      { gpu_type: 'A100', gpu_seconds: '1', gpu_ms: '1000', amount: '0.99' },
      { gpu_type: 'H100', gpu_seconds: '7.3', gpu_ms: '7300', amount: '8.01' },
    ]);
    expect(b.rows[0]).not.toHaveProperty('function_id');
    expect(b.other).toEqual({
      count: 2,
      gpu_seconds: '0.101',
      gpu_ms: '101',
      amount: '0.02',
      by_gpu_type: [
        { gpu_type: 'H100', gpu_seconds: '0.1', gpu_ms: '100', amount: '0.01' },
        { gpu_type: 'L4', gpu_seconds: '0.001', gpu_ms: '1', amount: '0.01' },
      ],
    });
    expect(b.totals).toMatchObject({ gpu_seconds: '10.901', gpu_ms: '10901', amount: '18.02' });
    expect(b.totals.by_gpu_type.map((c) => [c.gpu_type, c.amount])).toEqual([
      ['A100', '0.99'],
      ['H100', '8.02'],
      ['L4', '9.01'],
    ]);
  });

  it('names a function within its app: the same function id in two apps is two entries', () => {
    const b = buildBreakdown(
      [row('a', 'main', 'H100', 1000n, 5), row('b', 'main', 'H100', 2000n, 7), row('a', 'main', 'L4', 1n, 1)],
      'function_id',
      20,
    );
    expect(b.rows.map((r) => [r.app_id, r.function_id, r.amount])).toEqual([
      ['b', 'main', '0.07'],
      ['a', 'main', '0.06'],
    ]);
    expect(b.other).toBeNull();
  });

  it('is empty for no usage', () => {
    expect(buildBreakdown([], 'app_id', 20)).toEqual({
      gpu_types: [],
      rows: [],
      other: null,
      totals: { gpu_seconds: '0', gpu_ms: '0', amount: '0.00', by_gpu_type: [] },
    });
  });

  it('always adds up: entries and other to the totals, per GPU type and in all', () => {
    const arbRow = fc
      .tuple(
        fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'),
        fc.constantFrom('f1', 'f2', 'f3'),
        fc.constantFrom('H100', 'A100', 'L4'),
        fc.bigInt({ min: 0n, max: 10n ** 15n }),
        fc.integer({ min: 0, max: 10 ** 9 }),
      )
      .map(([a, f, t, ms, c]) => row(a, f, t, ms, c));
    fc.assert(
      fc.property(
        fc.array(arbRow, { maxLength: 60 }),
        fc.constantFrom('app_id' as const, 'function_id' as const),
        fc.integer({ min: 1, max: 8 }),
        (rows, by, limit) => {
          const b = buildBreakdown(rows, by, limit);
          const entries = [...b.rows, ...(b.other ? [b.other] : [])];
          const sumMs = (xs: { gpu_ms: string }[]) => xs.reduce((s, x) => s + BigInt(x.gpu_ms), 0n);
          const sumAmount = (xs: { amount: string }[]) =>
            xs.reduce((s, x) => s.plus(x.amount), new Money(0)).toFixed(2);
          expect(b.rows.length).toBeLessThanOrEqual(limit);
          expect(sumMs(entries).toString()).toBe(b.totals.gpu_ms);
          expect(sumAmount(entries)).toBe(b.totals.amount);
          expect(sumAmount(rows)).toBe(b.totals.amount);
          for (const e of [...entries, b.totals]) {
            expect(sumMs(e.by_gpu_type).toString()).toBe(e.gpu_ms);
            expect(sumAmount(e.by_gpu_type)).toBe(e.amount);
          }
          for (let i = 1; i < b.rows.length; i++)
            expect(new Money(b.rows[i - 1].amount).gte(b.rows[i].amount)).toBe(true);
          // The listed entries are a top: none left in "other" has a larger amount.
          const perEntry = new Map<string, Money>();
          for (const r of rows) {
            const id = by === 'app_id' ? r.app_id! : `${r.app_id} ${r.function_id}`;
            perEntry.set(id, (perEntry.get(id) ?? new Money(0)).plus(r.amount));
          }
          const listed = new Set(
            b.rows.map((r) => (by === 'app_id' ? r.app_id : `${r.app_id} ${r.function_id}`)),
          );
          expect(listed.size + (b.other?.count ?? 0)).toBe(perEntry.size);
          const smallestListed = Math.min(...b.rows.map((r) => Number(r.amount.replace('.', ''))));
          for (const [id, amount] of perEntry)
            if (!listed.has(id))
              expect(Number(amount.toFixed(2).replace('.', ''))).toBeLessThanOrEqual(smallestListed);
        },
      ),
      { numRuns: 500 },
    );
  });
});
