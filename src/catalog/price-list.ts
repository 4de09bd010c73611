import { Money } from './money';

/**
 * Published list prices (USD per second) that seed the catalog. The effective-dated
 * catalog with plans and changes-as-events arrives with the invoicing work (issue 4);
 * until then every reader prices with these, through `PriceCatalog`.
 */
export const SEED_PRICES = {
  gpuPerSecond: {
    B200: '0.001736',
    H200: '0.001261',
    H100: '0.001097',
    'A100-80GB': '0.000694',
    'A100-40GB': '0.000583',
    L40S: '0.000542',
    A10G: '0.000306',
    L4: '0.000222',
    T4: '0.000164',
  } as Record<string, string>,
  cpuPerCoreSecond: '0.0000131',
  memoryPerGibSecond: '0.00000222',
} as const;

export interface UsageQuantities {
  gpu_type: string;
  gpu_ms: bigint;
  cpu_millicore_ms: bigint;
  memory_mib_ms: bigint;
}

/** Prices usage quantities exactly (unrounded; round with roundToCents where shown). */
export class PriceCatalog {
  gpuPricePerSecond(gpuType: string): Money {
    const p = SEED_PRICES.gpuPerSecond[gpuType];
    if (p === undefined) throw new Error(`no price for GPU type ${gpuType}`);
    return new Money(p);
  }

  /** gpu_ms × price/s ÷ 1000 + millicore-ms × price/core-s ÷ 10^6 + MiB-ms × price/GiB-s ÷ (1024 × 1000). */
  price(q: UsageQuantities): Money {
    const gpu = this.gpuPricePerSecond(q.gpu_type).times(q.gpu_ms.toString()).div(1000);
    const cpu = new Money(SEED_PRICES.cpuPerCoreSecond).times(q.cpu_millicore_ms.toString()).div(1_000_000);
    const mem = new Money(SEED_PRICES.memoryPerGibSecond).times(q.memory_mib_ms.toString()).div(1024 * 1000);
    return gpu.plus(cpu).plus(mem);
  }
}
