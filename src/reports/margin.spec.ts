import { CostCatalog } from '../catalog/cost-catalog';
import { formatScaledExact } from '../catalog/money';
import { PriceCatalog } from '../catalog/price-catalog';
import { marginReport, ProviderUsage } from './margin';

const at = (iso: string) => Date.parse(iso);
const month = { fromMs: at('2026-10-01T00:00:00Z'), toMs: at('2026-11-01T00:00:00Z') };
const cut = at('2026-10-15T12:00:00Z');
const pieces = [
  { fromMs: month.fromMs, toMs: cut },
  { fromMs: cut, toMs: month.toMs },
];
const costs = new CostCatalog([
  {
    effective_from: '2026-01-01T00:00:00Z',
    provider: 'oci',
    gpu_per_second: { H100: '0.0006' },
    cpu_per_core_second: '0',
    memory_per_gib_second: '0',
  },
  // Inside the month: H100 gets cheaper at OCI; AWS is costed from then on, GPUs only.
  { effective_from: '2026-10-15T12:00:00Z', provider: 'oci', gpu_per_second: { H100: '0.0005' } },
  { effective_from: '2026-10-15T12:00:00Z', provider: 'aws', gpu_per_second: { H100: '0.0008' } },
]);
const usage = (piece: number, ws: string, provider: string, gpu_ms: bigint, cpu = 0n): ProviderUsage => ({
  piece,
  workspace_id: ws,
  provider,
  gpu_type: 'H100',
  region: 'us-east',
  gpu_ms,
  cpu_millicore_ms: cpu,
  memory_mib_ms: 0n,
});

describe('cost catalog', () => {
  it('is effective-dated per provider; what a change does not name stays; nothing is assumed', () => {
    expect(costs.costsAt('oci', at('2026-10-01T00:00:00Z'))?.gpu_per_second.H100).toBe('0.0006');
    expect(costs.costsAt('oci', cut)).toEqual({
      gpu_per_second: { H100: '0.0005' },
      cpu_per_core_second: '0',
      memory_per_gib_second: '0',
    });
    expect(costs.costsAt('aws', cut - 1)).toBeUndefined();
    expect(costs.costsAt('aws', cut)?.cpu_per_core_second).toBeUndefined();
    expect(costs.knows('aws')).toBe(true);
    expect(costs.knows('gcp')).toBe(false);
    expect(costs.cutsWithin(month.fromMs, month.toMs)).toEqual([cut]);
  });
});

describe('margin report', () => {
  const report = marginReport({
    pieces,
    usage: [
      usage(0, 'w1', 'oci', 3_600_000n, 1_000_000n), // an hour of H100 and a core-second before the cut
      usage(1, 'w1', 'oci', 3_600_000n),
      usage(0, 'w2', 'aws', 1_000_000n), // AWS before its costs: uncovered
      usage(1, 'w2', 'aws', 2_000_000n),
      usage(1, 'w2', '', 500_000n), // no provider on the events
      usage(1, 'w2', 'gcp', 500_000n), // a provider never costed
    ],
    prices: new PriceCatalog(),
    costs,
    credits: new Map([
      ['w1', 100n],
      ['w2', 333n],
    ]),
    groupBy: ['provider'],
  });

  it('rates at list price, costs at the cost in force, and keeps uncovered usage apart with why', () => {
    const byProvider = new Map(report.rows.map((r) => [r.provider, r]));
    const oci = byProvider.get('oci')!;
    // 7200 GPU-s at list 0.001097 + 1 core-s at 0.0000131; cost 3600 × 0.0006 + 3600 × 0.0005 + 0.
    expect(oci.revenue_list).toBe('7.8984131');
    expect(oci.cost).toBe('3.96');
    expect(oci.uncovered).toBeNull();
    const aws = byProvider.get('aws')!;
    expect([aws.gpu_seconds, aws.cost]).toEqual(['2000', '1.60']);
    expect(aws.uncovered).toMatchObject({ gpu_seconds: '1000', reasons: ['no_cost_in_force'] });
    expect(byProvider.get('')!.uncovered!.reasons).toEqual(['no_provider']);
    expect(byProvider.get('gcp')!.uncovered!.reasons).toEqual(['unknown_provider']);
    expect(byProvider.get('gcp')!.margin_percent).toBeNull();
  });

  it('spreads each workspace’s credits over its usage in whole cents that add up', () => {
    const credits = (s: string) => BigInt(s.replace('.', ''));
    let total = 0n;
    for (const r of report.rows) {
      total += credits(r.credits) + credits(r.uncovered?.credits ?? '0.00');
      expect(r.credits).toMatch(/^\d+\.\d\d$/);
    }
    expect(total).toBe(433n);
    expect(credits(report.totals.credits) + credits(report.totals.uncovered!.credits)).toBe(433n);
    // w1's credits all go to oci, the only thing w1 used.
    const oci = report.rows.find((r) => r.provider === 'oci')!;
    expect(oci.credits).toBe('1.00');
    // Margin = revenue after credits − cost, of covered usage; percent half-up to 2 decimals.
    expect(oci.margin).toBe(
      formatScaledExact(78_984_131n * 10n ** 18n - 100n * 10n ** 23n - 396n * 10n ** 23n),
    );
    // 2.9384131 ÷ 6.8984131 = 42.596… %
    expect(oci.margin_percent).toBe('42.60');
  });

  it('totals are the sums of the rows', () => {
    // Compare as fixed-width integers (every amount has its decimals at most 25 digits long).
    const norm = (s: string) => {
      const [i, f = ''] = s.split('.');
      return BigInt(i + f.padEnd(25, '0'));
    };
    expect(report.rows.reduce((a, r) => a + norm(r.revenue_list), 0n)).toBe(norm(report.totals.revenue_list));
    expect(report.rows.reduce((a, r) => a + norm(r.cost), 0n)).toBe(norm(report.totals.cost));
    expect(report.rows.reduce((a, r) => a + norm(r.margin), 0n)).toBe(norm(report.totals.margin));
  });
});
