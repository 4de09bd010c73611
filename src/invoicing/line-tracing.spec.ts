import { InvoiceLine } from './invoice';
import { lineQuantityMs, tracedKey } from './line-tracing.service';

function line(over: Partial<InvoiceLine>): InvoiceLine {
  return {
    id: 'inv_2026-10_ws:x',
    key: 'gpu:H100',
    kind: 'gpu',
    description: '',
    quantity: '1',
    unit: 'gpu_second',
    unit_price: null,
    prices: [],
    amount: '0.00',
    breakdown: [],
    ...over,
  };
}

describe('line tracing: which lines, and their quantity in base-unit milliseconds', () => {
  it('traces usage lines and usage adjustments by the usage key, nothing else', () => {
    expect(tracedKey(line({}))).toBe('gpu:H100');
    expect(tracedKey(line({ key: 'cpu', kind: 'cpu', unit: 'core_second' }))).toBe('cpu');
    expect(tracedKey(line({ key: 'memory', kind: 'memory', unit: 'gib_second' }))).toBe('memory');
    expect(
      tracedKey(
        line({
          key: 'adjustment:2026-09:gpu:L4',
          kind: 'adjustment',
          adjusts: { period: '2026-09', key: 'gpu:L4' },
        }),
      ),
    ).toBe('gpu:L4');
    expect(tracedKey(line({ key: 'plan_fee', kind: 'plan_fee', unit: 'month' }))).toBeUndefined();
    expect(tracedKey(line({ key: 'credits', kind: 'credits', unit: 'usd' }))).toBeUndefined();
    expect(
      tracedKey(
        line({
          key: 'adjustment:2026-09:credits',
          kind: 'adjustment',
          unit: 'usd',
          adjusts: { period: '2026-09', key: 'credits' },
        }),
      ),
    ).toBeUndefined();
  });

  it('turns the line’s exact quantity back into whole GPU-, millicore- and MiB-milliseconds', () => {
    expect(lineQuantityMs(line({ quantity: '7.3' }))).toBe(7300n);
    expect(lineQuantityMs(line({ quantity: '0.001' }))).toBe(1n);
    expect(lineQuantityMs(line({ quantity: '123456789.123', unit: 'gpu_second' }))).toBe(123456789123n);
    expect(lineQuantityMs(line({ quantity: '2.000001', unit: 'core_second' }))).toBe(2000001n);
    expect(lineQuantityMs(line({ quantity: '0.0009765625', unit: 'gib_second' }))).toBe(1000n);
    expect(lineQuantityMs(line({ quantity: '-1.5', unit: 'gpu_second', kind: 'adjustment' }))).toBe(-1500n);
    expect(() => lineQuantityMs(line({ quantity: '0.0001' }))).toThrow(/whole milliseconds/);
  });
});
