import { AMOUNT_SCALE, Money } from './money';
import { PriceCatalog, PriceSegment, PriceTable } from './price-catalog';

/**
 * Usage summed over one price segment for one workspace × GPU type × app × function.
 * Quantities are integer milliseconds: GPU-ms, millicore-ms, MiB-ms.
 */
export interface SegmentUsage {
  segment: number; // index into the segments the usage was summed over
  gpu_type: string;
  app_id: string;
  function_id: string;
  gpu_ms: bigint;
  cpu_millicore_ms: bigint;
  memory_mib_ms: bigint;
}

export type ChargeKind = 'gpu' | 'cpu' | 'memory';

/** One priced piece of a charge: a quantity at one unit price. */
export interface RatedPiece {
  from_ms: number;
  to_ms: number;
  unit_price: string;
  quantity_ms: bigint;
  amount: Money; // unrounded
}

/** What one charge (a GPU type, CPU or memory) comes to over a span, before rounding. */
export interface RatedCharge {
  key: string; // 'gpu:H100' | 'cpu' | 'memory'
  kind: ChargeKind;
  gpu_type?: string;
  quantity_ms: bigint;
  amount: Money;
  pieces: RatedPiece[];
  breakdown: Map<string, { app_id: string; function_id: string; quantity_ms: bigint; amount: Money }>;
}

/** Divisors that turn a quantity in ms into the unit its price is quoted in. */
export const UNIT_DIVISOR: Record<ChargeKind, number> = {
  gpu: 1000, // GPU-ms → GPU-seconds
  cpu: 1_000_000, // millicore-ms → core-seconds
  memory: 1_024_000, // MiB-ms → GiB-seconds
};

export function chargeKey(kind: ChargeKind, gpuType?: string): string {
  return kind === 'gpu' ? `gpu:${gpuType}` : kind;
}

/** quantity (ms) × unit price ÷ unit divisor, exactly. */
export function priceQuantity(kind: ChargeKind, quantityMs: bigint, unitPrice: string): Money {
  return new Money(unitPrice).times(quantityMs.toString()).div(UNIT_DIVISOR[kind]);
}

const PRICE_DECIMALS = 12;
/** 10^(AMOUNT_SCALE − PRICE_DECIMALS) ÷ divisor: a whole number for each unit (see money.ts). */
const SCALED_FACTOR: Record<ChargeKind, bigint> = {
  gpu: 10n ** BigInt(AMOUNT_SCALE - PRICE_DECIMALS) / BigInt(UNIT_DIVISOR.gpu),
  cpu: 10n ** BigInt(AMOUNT_SCALE - PRICE_DECIMALS) / BigInt(UNIT_DIVISOR.cpu),
  memory: 10n ** BigInt(AMOUNT_SCALE - PRICE_DECIMALS) / BigInt(UNIT_DIVISOR.memory),
};
const pricesInPicoUsd = new Map<string, bigint>();

/** A unit price as a whole number of 10^-12 USD (a catalog price has at most 12 decimals). */
function picoUsd(unitPrice: string): bigint {
  let pico = pricesInPicoUsd.get(unitPrice);
  if (pico === undefined) {
    const m = /^(\d+)(?:\.(\d{1,12}))?$/.exec(unitPrice);
    if (!m) throw new Error(`unit price ${unitPrice} is not a decimal with at most 12 decimals`);
    pico = BigInt(m[1] + (m[2] ?? '').padEnd(PRICE_DECIMALS, '0'));
    if (pricesInPicoUsd.size > 10_000) pricesInPicoUsd.clear(); // prices are few; never unbounded
    pricesInPicoUsd.set(unitPrice, pico);
  }
  return pico;
}

/** priceQuantity as a scaled integer (money.ts AMOUNT_SCALE): exact, no division. */
export function scaledPrice(kind: ChargeKind, quantityMs: bigint, unitPrice: string): bigint {
  return quantityMs * picoUsd(unitPrice) * SCALED_FACTOR[kind];
}

/** Usage quantities of one row (one GPU type, within one price segment), in integer ms units. */
export interface UsageQuantities {
  gpu_type: string;
  gpu_ms: bigint;
  cpu_millicore_ms: bigint;
  memory_mib_ms: bigint;
}

/** One charge of a rated row: its quantity, the unit price in force, the exact amount. */
export interface RatedQuantity {
  kind: ChargeKind;
  quantity_ms: bigint;
  unit_price: string;
  amount: Money; // unrounded
}

/** A row of usage rated at one price table: GPU, CPU and memory, and their exact sum. */
export interface RatedRow {
  gpu: RatedQuantity;
  cpu: RatedQuantity;
  memory: RatedQuantity;
  amount: Money; // unrounded
}

/**
 * THE rating of usage: every reader that prices usage (invoices through `rateUsage`, GET
 * /v1/usage, the usage export) prices each row here, at the prices of the segment the row
 * lies in. Exact; rounding happens once, where an amount is shown or charged (money.ts).
 */
export function rateRow(catalog: PriceCatalog, prices: PriceTable, usage: UsageQuantities): RatedRow {
  const rated = (kind: ChargeKind, quantity_ms: bigint, unit_price: string): RatedQuantity => ({
    kind,
    quantity_ms,
    unit_price,
    amount: priceQuantity(kind, quantity_ms, unit_price),
  });
  const gpu = rated('gpu', usage.gpu_ms, catalog.gpuPrice(prices, usage.gpu_type).toString());
  const cpu = rated('cpu', usage.cpu_millicore_ms, prices.cpu_per_core_second);
  const memory = rated('memory', usage.memory_mib_ms, prices.memory_per_gib_second);
  return { gpu, cpu, memory, amount: gpu.amount.plus(cpu.amount).plus(memory.amount) };
}

/** rateRow's amount alone, as a scaled integer (money.ts AMOUNT_SCALE): the hot read paths' rating. */
export function rateRowScaled(prices: PriceTable, usage: UsageQuantities): bigint {
  const gpuPrice = prices.gpu_per_second[usage.gpu_type];
  if (gpuPrice === undefined) throw new Error(`no price for GPU type ${usage.gpu_type}`);
  return (
    scaledPrice('gpu', usage.gpu_ms, gpuPrice) +
    scaledPrice('cpu', usage.cpu_millicore_ms, prices.cpu_per_core_second) +
    scaledPrice('memory', usage.memory_mib_ms, prices.memory_per_gib_second)
  );
}

/**
 * Rates usage exactly: each segment's quantities at that segment's prices, summed per
 * charge, with pieces per price and a breakdown by app and function. Nothing is rounded
 * here; rounding happens once per invoice line (money.ts).
 */
export function rateUsage(
  catalog: PriceCatalog,
  segments: readonly PriceSegment[],
  rows: readonly SegmentUsage[],
): Map<string, RatedCharge> {
  const charges = new Map<string, RatedCharge>();
  for (const row of rows) {
    const segment = segments[row.segment];
    if (!segment) throw new Error(`usage row refers to unknown segment ${row.segment}`);
    const rated = rateRow(catalog, segment.prices, row);
    for (const { kind, quantity_ms: quantity, unit_price: price, amount } of [
      rated.gpu,
      rated.cpu,
      rated.memory,
    ]) {
      if (quantity === 0n) continue;
      const key = chargeKey(kind, row.gpu_type);
      let charge = charges.get(key);
      if (!charge) {
        charge = {
          key,
          kind,
          gpu_type: kind === 'gpu' ? row.gpu_type : undefined,
          quantity_ms: 0n,
          amount: new Money(0),
          pieces: [],
          breakdown: new Map(),
        };
        charges.set(key, charge);
      }
      charge.quantity_ms += quantity;
      charge.amount = charge.amount.plus(amount);
      const piece = charge.pieces.find((p) => p.from_ms === segment.from_ms);
      if (piece) {
        piece.quantity_ms += quantity;
        piece.amount = piece.amount.plus(amount);
      } else {
        charge.pieces.push({
          from_ms: segment.from_ms,
          to_ms: segment.to_ms,
          unit_price: price,
          quantity_ms: quantity,
          amount,
        });
      }
      const bkey = `${row.app_id}\u0000${row.function_id}`;
      const b = charge.breakdown.get(bkey) ?? {
        app_id: row.app_id,
        function_id: row.function_id,
        quantity_ms: 0n,
        amount: new Money(0),
      };
      b.quantity_ms += quantity;
      b.amount = b.amount.plus(amount);
      charge.breakdown.set(bkey, b);
    }
  }
  for (const c of charges.values()) c.pieces.sort((a, b) => a.from_ms - b.from_ms);
  return charges;
}

/**
 * THE quantity format, used by every reader (GET /v1/usage, the usage export, invoice lines,
 * the dashboard): a quantity in ms written in its billing unit — GPU-seconds, core-seconds,
 * GiB-seconds — as an exact plain decimal with no trailing zeros and no exponent: 7,300
 * GPU-ms is "7.3", 1,500 is "1.5", 2,000 is "2", 1 MiB-ms is "0.0000009765625" GiB-s.
 */
export function quantityInUnits(kind: ChargeKind, quantityMs: bigint): string {
  // q ÷ divisor, exactly: every divisor divides 10^13, so q × (10^13 ÷ divisor) holds the
  // quotient to 13 decimals with nothing left over; trailing zeros are dropped.
  const negative = quantityMs < 0n;
  const digits = ((negative ? -quantityMs : quantityMs) * QUANTITY_FACTOR[kind]).toString().padStart(14, '0');
  const whole = digits.slice(0, -13);
  const fraction = digits.slice(-13).replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
}

const QUANTITY_FACTOR: Record<ChargeKind, bigint> = {
  gpu: 10n ** 13n / BigInt(UNIT_DIVISOR.gpu),
  cpu: 10n ** 13n / BigInt(UNIT_DIVISOR.cpu),
  memory: 10n ** 13n / BigInt(UNIT_DIVISOR.memory),
};
