/**
 * An independent invoice calculation for tests: integer arithmetic on the generated events
 * (BigInt rationals), sharing no code with the service. Prices are given as decimal strings
 * and turned into integers of 1e-8 USD here.
 */
export interface OracleEvent {
  subject: string;
  gpu_type: string;
  gpu_count: number;
  started_ms: number;
  ended_ms: number;
  cpu_millicores: number;
  memory_mib: number;
}

export interface OraclePrices {
  gpu: Record<string, string>;
  cpu: string;
  memory: string;
}

const SCALE = 100_000_000n; // prices in 1e-8 USD

function scaled(price: string): bigint {
  const [i, f = ''] = price.split('.');
  if (f.length > 8) throw new Error(`oracle handles at most 8 decimals: ${price}`);
  return BigInt(i) * SCALE + BigInt(f.padEnd(8, '0'));
}

/** Half-up to the cent of a rational n/d (USD) → cents; negative amounts mirror positive ones. */
export function roundCents(n: bigint, d: bigint): bigint {
  if (n < 0n) return -roundCents(-n, d);
  return (n * 100n * 2n + d) / (2n * d);
}

export function centsToString(c: bigint): string {
  const neg = c < 0n;
  const a = neg ? -c : c;
  return `${neg ? '-' : ''}${a / 100n}.${(a % 100n).toString().padStart(2, '0')}`;
}

/** Price schedule: list prices from `from_ms` on (sorted ascending). */
export type OracleSchedule = { from_ms: number; prices: OraclePrices }[];

function pricesAt(schedule: OracleSchedule, ms: number): OraclePrices {
  let p = schedule[0].prices;
  for (const s of schedule) if (s.from_ms <= ms) p = s.prices;
  return p;
}

/** Usage rational amounts per line key for one workspace's events within [from, to). */
export function oracleUsage(
  events: readonly OracleEvent[],
  schedule: OracleSchedule,
  fromMs: number,
  toMs: number,
): Map<string, { n: bigint; d: bigint; quantityMs: bigint }> {
  // Common denominators: GPU 1000 × 1e8, CPU 1e6 × 1e8, memory 1024000 × 1e8.
  const den: Record<string, bigint> = {
    gpu: 1000n * SCALE,
    cpu: 1_000_000n * SCALE,
    memory: 1_024_000n * SCALE,
  };
  const out = new Map<string, { n: bigint; d: bigint; quantityMs: bigint }>();
  const add = (key: string, d: bigint, qty: bigint, price: bigint) => {
    const e = out.get(key) ?? { n: 0n, d, quantityMs: 0n };
    e.n += qty * price;
    e.quantityMs += qty;
    out.set(key, e);
  };
  const cuts = [fromMs, ...schedule.map((s) => s.from_ms).filter((t) => t > fromMs && t < toMs), toMs];
  for (const ev of events) {
    for (let i = 0; i + 1 < cuts.length; i++) {
      const a = Math.max(ev.started_ms, cuts[i]);
      const b = Math.min(ev.ended_ms, cuts[i + 1]);
      if (b <= a) continue;
      const ms = BigInt(b - a);
      const p = pricesAt(schedule, cuts[i]);
      add(`gpu:${ev.gpu_type}`, den.gpu, ms * BigInt(ev.gpu_count), scaled(p.gpu[ev.gpu_type]));
      if (ev.cpu_millicores > 0) add('cpu', den.cpu, ms * BigInt(ev.cpu_millicores), scaled(p.cpu));
      if (ev.memory_mib > 0) add('memory', den.memory, ms * BigInt(ev.memory_mib), scaled(p.memory));
    }
  }
  return out;
}

/** Everything `events` cost over [fromMs, toMs) (GPU, CPU and memory), exactly, in cents half-up. */
export function oracleAmountCents(
  events: readonly OracleEvent[],
  schedule: OracleSchedule,
  fromMs: number,
  toMs: number,
): bigint {
  let n = 0n;
  let d = 1n;
  for (const u of oracleUsage(events, schedule, fromMs, toMs).values()) {
    n = n * u.d + u.n * d;
    d = d * u.d;
  }
  return roundCents(n, d);
}

export interface OracleInvoice {
  lines: Map<string, bigint>; // key → cents
  gpuMs: Map<string, bigint>; // gpu_type → GPU-ms
  usageCents: bigint;
  creditsCents: bigint;
  feeCents: bigint;
  totalCents: bigint;
}

/** The invoice for one workspace and period, by the written rule: lines rounded half-up, totals summed. */
export function oracleInvoice(
  events: readonly OracleEvent[],
  schedule: OracleSchedule,
  fromMs: number,
  toMs: number,
  plan: { feeCents: bigint; creditsCents: bigint },
): OracleInvoice {
  const usage = oracleUsage(events, schedule, fromMs, toMs);
  const lines = new Map<string, bigint>();
  const gpuMs = new Map<string, bigint>();
  let usageCents = 0n;
  for (const [key, u] of usage) {
    const c = roundCents(u.n, u.d);
    lines.set(key, c);
    usageCents += c;
    if (key.startsWith('gpu:')) gpuMs.set(key.slice(4), u.quantityMs);
  }
  if (plan.feeCents > 0n) lines.set('plan_fee', plan.feeCents);
  const creditsCents = plan.creditsCents < usageCents ? plan.creditsCents : usageCents > 0n ? usageCents : 0n;
  if (creditsCents > 0n) lines.set('credits', -creditsCents);
  return {
    lines,
    gpuMs,
    usageCents,
    creditsCents,
    feeCents: plan.feeCents,
    totalCents: usageCents + plan.feeCents - creditsCents,
  };
}

export function toCents(amount: string): bigint {
  const neg = amount.startsWith('-');
  const [i, f = ''] = amount.replace('-', '').split('.');
  const c = BigInt(i) * 100n + BigInt(f.padEnd(2, '0').slice(0, 2));
  if (f.length > 2) throw new Error(`not a cent amount: ${amount}`);
  return neg ? -c : c;
}

/** The published list prices (the seed), written here on their own. */
export const LIST: OraclePrices = {
  gpu: {
    B200: '0.001736',
    H200: '0.001261',
    H100: '0.001097',
    'A100-80GB': '0.000694',
    'A100-40GB': '0.000583',
    L40S: '0.000542',
    A10G: '0.000306',
    L4: '0.000222',
    T4: '0.000164',
  },
  cpu: '0.0000131',
  memory: '0.00000222',
};
/** The seed plans, in cents. */
export const PLANS = {
  starter: { feeCents: 0n, creditsCents: 3000n },
  team: { feeCents: 25000n, creditsCents: 10000n },
};

/** Base-unit ms per unit of quantity, as the contract defines the units. */
export const MS_PER_UNIT: Record<string, bigint> = {
  gpu_second: 1000n,
  core_second: 1_000_000n,
  gib_second: 1_024_000n,
};

/** A decimal quantity in its unit, times the base-unit factor: exact, with BigInt. */
export function quantityMs(quantity: string, unit: string): bigint {
  const negative = quantity.startsWith('-');
  const [i, f = ''] = quantity.replace('-', '').split('.');
  const scale = 10n ** BigInt(f.length);
  const n = (BigInt(i) * scale + BigInt(f || '0')) * MS_PER_UNIT[unit];
  if (n % scale !== 0n) throw new Error(`not whole ms: ${quantity} ${unit}`);
  return (negative ? -1n : 1n) * (n / scale);
}

/** An exact rational n/d (d > 0), for amounts the oracle compares without rounding. */
export interface Rational {
  n: bigint;
  d: bigint;
}

/** A plain decimal string ("-12.3400") as an exact rational. */
export function decimal(value: string): Rational {
  const negative = value.startsWith('-');
  const [i, f = ''] = value.replace('-', '').split('.');
  if (!/^\d+$/.test(i) || !/^\d*$/.test(f)) throw new Error(`not a plain decimal: ${value}`);
  const n = BigInt(i + f);
  return { n: negative ? -n : n, d: 10n ** BigInt(f.length) };
}

export function addRational(a: Rational, b: Rational): Rational {
  return { n: a.n * b.d + b.n * a.d, d: a.d * b.d };
}

export function sameRational(a: Rational, b: Rational): boolean {
  return a.n * b.d === b.n * a.d;
}

/** The oracle's prices with some changed, for a schedule's later step. */
export function withPrices(
  base: OraclePrices,
  change: { gpu?: Record<string, string>; cpu?: string; memory?: string },
) {
  return {
    gpu: { ...base.gpu, ...(change.gpu ?? {}) },
    cpu: change.cpu ?? base.cpu,
    memory: change.memory ?? base.memory,
  };
}

/** One workspace's invoice for [fromMs, toMs) at the list prices, from every event given (any workspace's). */
export function oracleListInvoice(
  events: readonly OracleEvent[],
  workspace: string,
  fromMs: number,
  toMs: number,
  plan: { feeCents: bigint; creditsCents: bigint },
): OracleInvoice {
  return oracleInvoice(
    events.filter((e) => e.subject === workspace),
    [{ from_ms: 0, prices: LIST }],
    fromMs,
    toMs,
    plan,
  );
}
