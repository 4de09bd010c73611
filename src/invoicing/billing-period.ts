import { Type } from '@sinclair/typebox';

/**
 * A billing period: one calendar month in UTC, written "YYYY-MM". Periods are half-open
 * [start, end): the first millisecond of the month up to, not including, the next month's.
 */
export class BillingPeriod {
  private constructor(
    readonly year: number,
    readonly month: number, // 1–12
  ) {}

  static readonly PATTERN = /^(\d{4})-(0[1-9]|1[0-2])$/;
  /** Years a period may name: no usage predates 2000, and nothing is billed a century ahead. */
  static readonly MIN_YEAR = 2000;
  static readonly MAX_YEAR = 2100;
  static readonly RULE = `a month written YYYY-MM, years ${BillingPeriod.MIN_YEAR}–${BillingPeriod.MAX_YEAR}`;

  /**
   * The one period parser: `YYYY-MM` with a year in [MIN_YEAR, MAX_YEAR], else undefined.
   * Everything that reads a period — HTTP, CLI, projections, stored rows — parses it here.
   */
  static parse(text: unknown): BillingPeriod | undefined {
    if (typeof text !== 'string') return undefined;
    const m = BillingPeriod.PATTERN.exec(text);
    if (!m) return undefined;
    const year = Number(m[1]);
    if (year < BillingPeriod.MIN_YEAR || year > BillingPeriod.MAX_YEAR) return undefined;
    return new BillingPeriod(year, Number(m[2]));
  }

  /** Whether the month is over at `nowMs` (only an ended month can be invoiced). */
  hasEnded(nowMs: number): boolean {
    return this.endMs <= nowMs;
  }

  static containing(ms: number): BillingPeriod {
    const d = new Date(ms);
    return new BillingPeriod(d.getUTCFullYear(), d.getUTCMonth() + 1);
  }

  get startMs(): number {
    return Date.UTC(this.year, this.month - 1, 1);
  }

  get endMs(): number {
    return Date.UTC(this.year, this.month, 1);
  }

  next(): BillingPeriod {
    return BillingPeriod.containing(this.endMs);
  }

  previous(): BillingPeriod {
    return BillingPeriod.containing(this.startMs - 1);
  }

  toString(): string {
    return `${this.year}-${String(this.month).padStart(2, '0')}`;
  }

  compare(other: BillingPeriod): number {
    return this.startMs - other.startMs;
  }
}

/**
 * A period in a billing event payload: what BillingPeriod.parse accepts, as a schema
 * (years 2000–2100; billing-period.spec.ts checks the two agree).
 */
export const PeriodText = () => Type.String({ pattern: '^(20\\d{2}|2100)-(0[1-9]|1[0-2])$' });
