import { Money } from '../../catalog/money';
import { RatedCharge } from '../../catalog/rating';
import { BillingPeriod } from '../billing-period';
import { CreditGrant } from '../credit-grants';

/** Fixtures the invoicing table tests share: a day, a grant, a rated charge over one month. */
export const DAY_MS = 86_400_000;

export function grant(id: string, over: Partial<CreditGrant> = {}): CreditGrant {
  const start = BillingPeriod.parse('2026-08')!.startMs;
  return {
    grant_id: id,
    workspace_id: 'ws',
    kind: 'promotional',
    amount: '100.00',
    priority: 50,
    effective_at_ms: start,
    expires_at_ms: null,
    voided_at_ms: null,
    created_at_ms: start,
    reason: 'test',
    ...over,
  };
}

/** A GPU (or CPU / memory) charge of `amount` over the whole of `period`. */
export function charge(period: BillingPeriod, key: string, amount: string, quantityMs = 1000n): RatedCharge {
  const kind = key.startsWith('gpu:') ? 'gpu' : (key as 'cpu' | 'memory');
  return {
    key,
    kind,
    gpu_type: kind === 'gpu' ? key.slice(4) : undefined,
    quantity_ms: quantityMs,
    amount: new Money(amount),
    pieces: [
      {
        from_ms: period.startMs,
        to_ms: period.endMs,
        unit_price: '0.001',
        quantity_ms: quantityMs,
        amount: new Money(amount),
      },
    ],
    breakdown: new Map(),
  };
}

/** One workspace's usage of a month as rated usage (one GPU line). */
export function usageOf(
  period: BillingPeriod,
  ws: string,
  amount: string,
): Map<string, Map<string, RatedCharge>> {
  return new Map([[ws, new Map([['gpu:H100', charge(period, 'gpu:H100', amount)]])]]);
}
