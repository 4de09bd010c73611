import Decimal from 'decimal.js';
import fc from 'fast-check';
import { formatAmount, formatCents, Money, parseCents, roundToCents, scaledToCents } from './money';
import { ChargeKind, priceQuantity, quantityInUnits, scaledPrice, UNIT_DIVISOR } from './rating';

const KINDS: ChargeKind[] = ['gpu', 'cpu', 'memory'];
/** Catalog prices (patterns.ts PRICE_PATTERN): up to 12 integer digits and 12 decimals. */
const price = fc
  .tuple(
    fc.bigInt({ min: 0n, max: 10n ** 12n - 1n }),
    fc.bigInt({ min: 0n, max: 10n ** 12n - 1n }),
    fc.integer({ min: 0, max: 12 }),
  )
  .map(([whole, frac, decimals]) =>
    decimals === 0 ? whole.toString() : `${whole}.${frac.toString().padStart(12, '0').slice(0, decimals)}`,
  );
/** Small prices as real catalogs have them, where rounding at the half cent is likeliest. */
const smallPrice = fc.integer({ min: 0, max: 10 ** 9 }).map((n) => `0.${n.toString().padStart(12, '0')}`);
const quantity = fc.oneof(fc.bigInt({ min: 0n, max: 10n ** 9n }), fc.bigInt({ min: 0n, max: 10n ** 18n }));

/**
 * The integer money of the hot read paths (money.ts AMOUNT_SCALE, rating.ts scaledPrice) against
 * decimal.js, the reference: the same amounts, the same rounding, the same quantity text.
 */
describe('scaled money: the same results as decimal.js', () => {
  it('one charge priced and rounded: the same cents', () => {
    fc.assert(
      fc.property(fc.constantFrom(...KINDS), quantity, fc.oneof(price, smallPrice), (kind, q, p) => {
        const reference = formatAmount(priceQuantity(kind, q, p));
        expect(formatCents(scaledToCents(scaledPrice(kind, q, p)))).toBe(reference);
      }),
      { numRuns: 5000 },
    );
  });

  it('several charges summed, then rounded once: the same cents', () => {
    const charge = fc.tuple(fc.constantFrom(...KINDS), quantity, smallPrice);
    fc.assert(
      fc.property(fc.array(charge, { minLength: 1, maxLength: 6 }), (charges) => {
        const reference = charges.reduce((a, [k, q, p]) => a.plus(priceQuantity(k, q, p)), new Money(0));
        const scaled = charges.reduce((a, [k, q, p]) => a + scaledPrice(k, q, p), 0n);
        expect(formatCents(scaledToCents(scaled))).toBe(formatAmount(reference));
      }),
      { numRuns: 3000 },
    );
  });

  it('half a cent rounds up, and away from zero below it', () => {
    const scale = 10n ** 23n; // one cent
    expect(scaledToCents(scale / 2n)).toBe(1n);
    expect(scaledToCents(scale / 2n - 1n)).toBe(0n);
    expect(scaledToCents(-scale / 2n)).toBe(-1n);
    expect(scaledToCents(-scale / 2n + 1n)).toBe(0n);
    expect(formatAmount(roundToCents(new Decimal('-0.005')))).toBe('-0.01');
  });

  it('writes and reads cents as the API writes amounts', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 14n), max: 10n ** 14n }), (cents) => {
        const text = formatCents(cents);
        expect(text).toBe(new Money(cents.toString()).div(100).toFixed(2));
        expect(parseCents(text)).toBe(cents);
      }),
      { numRuns: 3000 },
    );
    expect(() => parseCents('1.5')).toThrow(/two decimals/);
  });

  it('quantities in units: the exact decimal, without trailing zeros, as decimal.js writes it', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...KINDS),
        fc.oneof(quantity, fc.constantFrom(0n, 1n, 999n, 1000n, 1024000n)),
        (kind, q) => {
          expect(quantityInUnits(kind, q)).toBe(new Money(q.toString()).div(UNIT_DIVISOR[kind]).toFixed());
        },
      ),
      { numRuns: 5000 },
    );
  });
});
