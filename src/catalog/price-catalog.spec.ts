import { PriceCatalog } from './price-catalog';
import { priceQuantity, quantityInUnits, rateRow, rateUsage } from './rating';

const H = 3_600_000;
const T0 = Date.UTC(2026, 9, 1);

describe('PriceCatalog', () => {
  it('starts from the published list and applies changes from their instant on, partially', () => {
    const c = new PriceCatalog([
      { effective_from: new Date(T0 + 10 * H).toISOString(), gpu_per_second: { H100: '0.0012' } },
      { effective_from: new Date(T0 + 5 * H).toISOString(), cpu_per_core_second: '0.00002' },
    ]);
    expect(c.pricesAt(T0).gpu_per_second.H100).toBe('0.001097');
    expect(c.pricesAt(T0 + 5 * H)).toMatchObject({ cpu_per_core_second: '0.00002' });
    expect(c.pricesAt(T0 + 5 * H).gpu_per_second.H100).toBe('0.001097');
    // The later change keeps the earlier one's CPU price: changes name only what changes.
    expect(c.pricesAt(T0 + 10 * H)).toMatchObject({
      cpu_per_core_second: '0.00002',
      memory_per_gib_second: '0.00000222',
    });
    expect(c.pricesAt(T0 + 10 * H).gpu_per_second.H100).toBe('0.0012');
    expect(c.segments(T0, T0 + 24 * H).map((s) => [s.from_ms - T0, s.to_ms - T0])).toEqual([
      [0, 5 * H],
      [5 * H, 10 * H],
      [10 * H, 24 * H],
    ]);
    expect(c.segments(T0 + 11 * H, T0 + 12 * H)).toHaveLength(1);
  });

  it('takes a change from any instant, to the millisecond', () => {
    const at = T0 + 5 * H + 23 * 60_000 + 17_501;
    const c = new PriceCatalog([{ effective_from: new Date(at).toISOString(), cpu_per_core_second: '1' }]);
    expect(c.pricesAt(at - 1).cpu_per_core_second).toBe('0.0000131');
    expect(c.pricesAt(at).cpu_per_core_second).toBe('1');
    expect(c.segments(T0, T0 + 24 * H).map((s) => [s.from_ms - T0, s.to_ms - T0])).toEqual([
      [0, at - T0],
      [at - T0, 24 * H],
    ]);
  });

  it('knows the seed plans and effective-dated plan changes', () => {
    const c = new PriceCatalog(
      [],
      [
        {
          effective_from: new Date(T0).toISOString(),
          plan: 'team',
          base_fee: '300.00',
          monthly_credits: '100.00',
        },
        {
          effective_from: new Date(T0).toISOString(),
          plan: 'scale',
          base_fee: '1000.00',
          monthly_credits: '500.00',
        },
      ],
    );
    expect(c.planAt('team', T0 - 1)).toEqual({ plan: 'team', base_fee: '250.00', monthly_credits: '100.00' });
    expect(c.planAt('team', T0)?.base_fee).toBe('300.00');
    expect(c.planAt('starter', T0)).toEqual({ plan: 'starter', base_fee: '0.00', monthly_credits: '30.00' });
    expect(c.planAt('scale', T0 - 1)).toBeUndefined();
    expect(c.knownPlans().sort()).toEqual(['scale', 'starter', 'team']);
  });

  it("bills a month on the plan's terms at its start, a plan new inside it on its first terms, and nothing for a plan whose terms start later", () => {
    const month = [T0, Date.UTC(2026, 10, 1)] as const;
    const c = new PriceCatalog(
      [],
      [
        // scale: from the 10th of the month; then again from the 20th
        {
          effective_from: new Date(T0 + 9 * 24 * H).toISOString(),
          plan: 'scale',
          base_fee: '10.00',
          monthly_credits: '1.00',
        },
        {
          effective_from: new Date(T0 + 19 * 24 * H).toISOString(),
          plan: 'scale',
          base_fee: '20.00',
          monthly_credits: '2.00',
        },
        // futurex: only from the month after
        {
          effective_from: new Date(month[1]).toISOString(),
          plan: 'futurex',
          base_fee: '30.00',
          monthly_credits: '3.00',
        },
        // team changes on the 5th: the month is billed on the terms at its start
        {
          effective_from: new Date(T0 + 4 * 24 * H).toISOString(),
          plan: 'team',
          base_fee: '999.00',
          monthly_credits: '0.00',
        },
      ],
    );
    expect(c.planTermsDuring('team', ...month)).toEqual({
      plan: 'team',
      base_fee: '250.00',
      monthly_credits: '100.00',
    });
    expect(c.planTermsDuring('scale', ...month)).toEqual({
      plan: 'scale',
      base_fee: '10.00',
      monthly_credits: '1.00',
    });
    expect(c.planTermsDuring('futurex', ...month)).toBeUndefined();
    expect(c.planTermsDuring('futurex', month[1], month[1] + 30 * 24 * H)?.base_fee).toBe('30.00');
    expect(c.planTermsDuring('nosuch', ...month)).toBeUndefined();
    expect(c.planStartMs('futurex')).toBe(month[1]);
    expect(c.planStartMs('scale')).toBe(T0 + 9 * 24 * H);
    expect(c.planStartMs('nosuch')).toBeUndefined();
  });
});

describe('rating', () => {
  it('prices quantities exactly in their units', () => {
    // 8 × H100 for one hour: 28,800 GPU-s × 0.001097 = 31.5936
    expect(priceQuantity('gpu', 28_800_000n, '0.001097').toString()).toBe('31.5936');
    // 4 cores for one hour: 14,400 core-s × 0.0000131 = 0.18864
    expect(priceQuantity('cpu', 4000n * 3_600_000n, '0.0000131').toString()).toBe('0.18864');
    // 32 GiB for one hour: 115,200 GiB-s × 0.00000222 = 0.255744
    expect(priceQuantity('memory', 32_768n * 3_600_000n, '0.00000222').toString()).toBe('0.255744');
    expect(quantityInUnits('memory', 1n)).toBe('0.0000009765625');
  });

  it('writes every quantity in one format: its unit, exact, no trailing zeros, no exponent', () => {
    const table: Array<[Parameters<typeof quantityInUnits>[0], bigint, string]> = [
      ['gpu', 7_300n, '7.3'],
      ['gpu', 1_500n, '1.5'],
      ['gpu', 2_000n, '2'],
      ['gpu', 0n, '0'],
      ['gpu', 7n, '0.007'],
      ['gpu', 40_984n, '40.984'],
      ['gpu', 12_345_678_901_234_567n, '12345678901234.567'],
      ['gpu', 10n ** 30n, '1' + '0'.repeat(27)],
      ['cpu', 2_500n, '0.0025'],
      ['cpu', 4_000n * 3_600_000n, '14400'],
      ['memory', 1_024_000n, '1'],
      ['memory', 512n, '0.0005'],
    ];
    for (const [kind, ms, text] of table)
      expect([kind, ms, quantityInUnits(kind, ms)]).toEqual([kind, ms, text]);
  });

  it('rates a row the one way every reader does: each charge at the segment’s prices, summed exactly', () => {
    const c = new PriceCatalog([], []);
    const [segment] = c.segments(T0, T0 + H);
    const rated = rateRow(c, segment.prices, {
      gpu_type: 'H100',
      gpu_ms: 7_300n,
      cpu_millicore_ms: 2_500n * 7_300n,
      memory_mib_ms: 1_024n * 7_300n,
    });
    const gpuPrice = segment.prices.gpu_per_second.H100;
    expect(rated.gpu).toEqual({
      kind: 'gpu',
      quantity_ms: 7_300n,
      unit_price: gpuPrice,
      amount: priceQuantity('gpu', 7_300n, gpuPrice),
    });
    expect(
      rated.cpu.amount.eq(priceQuantity('cpu', 2_500n * 7_300n, segment.prices.cpu_per_core_second)),
    ).toBe(true);
    expect(rated.amount.eq(rated.gpu.amount.plus(rated.cpu.amount).plus(rated.memory.amount))).toBe(true);
    // …and rateUsage, which invoices use, comes to the same amounts for the same row.
    const charges = rateUsage(
      c,
      [segment],
      [
        {
          segment: 0,
          app_id: 'a',
          function_id: 'f',
          ...{
            gpu_type: 'H100',
            gpu_ms: 7_300n,
            cpu_millicore_ms: 2_500n * 7_300n,
            memory_mib_ms: 1_024n * 7_300n,
          },
        },
      ],
    );
    expect(charges.get('gpu:H100')!.amount.eq(rated.gpu.amount)).toBe(true);
    expect(charges.get('cpu')!.amount.eq(rated.cpu.amount)).toBe(true);
    expect(charges.get('memory')!.amount.eq(rated.memory.amount)).toBe(true);
  });

  it('rates a period across a price change piecewise, with a breakdown by app and function', () => {
    const c = new PriceCatalog([
      { effective_from: new Date(T0 + H).toISOString(), gpu_per_second: { H100: '0.002' } },
    ]);
    const segments = c.segments(T0, T0 + 2 * H);
    const rated = rateUsage(c, segments, [
      {
        segment: 0,
        gpu_type: 'H100',
        app_id: 'a',
        function_id: 'f',
        gpu_ms: 1000n,
        cpu_millicore_ms: 0n,
        memory_mib_ms: 0n,
      },
      {
        segment: 1,
        gpu_type: 'H100',
        app_id: 'a',
        function_id: 'f',
        gpu_ms: 2000n,
        cpu_millicore_ms: 0n,
        memory_mib_ms: 0n,
      },
      {
        segment: 1,
        gpu_type: 'H100',
        app_id: 'b',
        function_id: '',
        gpu_ms: 500n,
        cpu_millicore_ms: 1000n,
        memory_mib_ms: 0n,
      },
    ]);
    const h100 = rated.get('gpu:H100')!;
    expect(h100.quantity_ms).toBe(3500n);
    expect(h100.amount.toString()).toBe('0.006097'); // 1 s × 0.001097 + 2.5 s × 0.002
    expect(h100.pieces.map((p) => [p.unit_price, p.quantity_ms])).toEqual([
      ['0.001097', 1000n],
      ['0.002', 2500n],
    ]);
    expect([...h100.breakdown.values()].map((b) => [b.app_id, b.quantity_ms])).toEqual([
      ['a', 3000n],
      ['b', 500n],
    ]);
    expect(rated.get('cpu')!.quantity_ms).toBe(1000n);
    expect(rated.has('memory')).toBe(false);
  });
});
