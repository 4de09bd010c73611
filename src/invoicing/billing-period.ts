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

  static parse(text: string): BillingPeriod | undefined {
    const m = BillingPeriod.PATTERN.exec(text);
    return m ? new BillingPeriod(Number(m[1]), Number(m[2])) : undefined;
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
