import Decimal from 'decimal.js';

/**
 * Exact money. Amounts are decimal.js values computed at full precision from integer
 * quantities and decimal unit prices; nothing here is a float.
 *
 * THE rounding rule (the only one in gpumeter): an amount that is shown or charged is
 * rounded once, half-up (away from zero on .5), to the cent. Totals are sums of already
 * rounded amounts. Every reader — usage API, invoices, previews, exports, dashboard —
 * rounds through `roundToCents`.
 */
export const Money = Decimal.clone({
  precision: 60,
  rounding: Decimal.ROUND_HALF_UP,
  toExpNeg: -60,
  toExpPos: 60,
});
export type Money = Decimal;

export const CURRENCY = 'usd';

export function roundToCents(amount: Decimal): Decimal {
  return new Money(amount).toDecimalPlaces(2, Decimal.ROUND_HALF_UP);
}

/** "123.45" — major units with exactly two decimals, as the API shows money. */
export function formatAmount(amount: Decimal): string {
  return roundToCents(amount).toFixed(2);
}

/** An amount as integer minor units (cents) after the rounding rule, as Stripe takes it. */
export function toMinorUnits(amount: Decimal): number {
  const cents = roundToCents(amount).times(100);
  const n = cents.toNumber();
  if (!cents.isInteger() || !Number.isSafeInteger(n))
    throw new Error(`amount ${amount.toString()} out of range`);
  return n;
}

/**
 * The same money as integers, for read paths that rate thousands of rows a request (GET
 * /v1/usage and its breakdowns), where decimal.js cost ≈ 20 µs a row: an amount is a whole
 * number of 10^-25 USD (AMOUNT_SCALE). That is exact for every amount rating makes — a price
 * has at most 12 decimals (catalog/patterns.ts) and a quantity is divided by 1,000, 1,000,000
 * or 1,024,000 (= 2^13 · 5^3), all of which divide 10^13. The rounding rule is the one above,
 * on integers; a differential test holds both to the same results.
 */
export const AMOUNT_SCALE = 25;
const HALF_CENT = 5n * 10n ** BigInt(AMOUNT_SCALE - 3);
const CENT = 10n ** BigInt(AMOUNT_SCALE - 2);

/** THE rounding rule on a scaled amount: half-up (away from zero on .5), to whole cents. */
export function scaledToCents(scaled: bigint): bigint {
  return scaled < 0n ? -((-scaled + HALF_CENT) / CENT) : (scaled + HALF_CENT) / CENT;
}

/** "123.45" from whole cents: what formatAmount writes for the same amount. */
export function formatCents(cents: bigint): string {
  const sign = cents < 0n ? '-' : '';
  const abs = cents < 0n ? -cents : cents;
  return `${sign}${abs / 100n}.${(abs % 100n).toString().padStart(2, '0')}`;
}

/** Whole cents from an amount the API wrote ("123.45", or "-0.50"): exact, no float. */
export function parseCents(amount: string): bigint {
  const m = /^(-?)(\d+)\.(\d\d)$/.exec(amount);
  if (!m) throw new Error(`not an amount with two decimals: ${amount}`);
  const cents = BigInt(m[2]) * 100n + BigInt(m[3]);
  return m[1] ? -cents : cents;
}

/**
 * A scaled amount written exactly, unrounded: "1234.5678901", at least two decimals, no
 * trailing zeros beyond them (reports that hand exact amounts to finance, to be rounded once
 * where they are shown or charged).
 */
export function formatScaledExact(scaled: bigint): string {
  const sign = scaled < 0n ? '-' : '';
  const abs = scaled < 0n ? -scaled : scaled;
  const unit = 10n ** BigInt(AMOUNT_SCALE);
  const fraction = (abs % unit).toString().padStart(AMOUNT_SCALE, '0').replace(/0+$/, '').padEnd(2, '0');
  return `${sign}${abs / unit}.${fraction}`;
}

/** Whole cents as a scaled amount. */
export function centsToScaled(cents: bigint): bigint {
  return cents * CENT;
}
