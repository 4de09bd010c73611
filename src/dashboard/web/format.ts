/** How the page writes money and months. Amounts stay the API's exact strings. */
export const usd = (amount: string): string => `${amount} USD`;
export const money = (m: { amount: string; currency: string }): string =>
  `${m.amount} ${m.currency.toUpperCase()}`;

/** An amount with exactly two decimals, as the API writes them, in cents: exact, as a BigInt. */
export const cents = (amount: string): bigint => BigInt(amount.replace('.', ''));
export function centsText(c: bigint): string {
  const sign = c < 0n ? '-' : '';
  const a = c < 0n ? -c : c;
  return `${sign}${a / 100n}.${String(a % 100n).padStart(2, '0')}`;
}

/** 'YYYY-MM' of a time, in UTC (billing months are UTC). */
export const periodOf = (ms: number): string => new Date(ms).toISOString().slice(0, 7);
export function monthStart(period: string): number {
  const [y, m] = period.split('-').map(Number);
  return Date.UTC(y, m - 1, 1);
}
export function nextMonthStart(period: string): number {
  const [y, m] = period.split('-').map(Number);
  return Date.UTC(y, m, 1);
}
export const monthLabel = (period: string): string =>
  new Date(monthStart(period)).toLocaleString('en', { month: 'long', year: 'numeric', timeZone: 'UTC' });
