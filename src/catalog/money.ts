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
