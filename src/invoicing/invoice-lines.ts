import { formatAmount, Money, roundToCents } from '../catalog/money';
import { PlanTerms } from '../catalog/price-catalog';
import { quantityInUnits, RatedCharge } from '../catalog/rating';
import { allocate, CreditGrant, OfferedGrant } from './credit-grants';
import { InvoiceLine, lineId, LineUnit } from './invoice';

/**
 * The lines of one month (pure): a usage line per GPU type, CPU and memory, the plan's fee,
 * a credit line per grant that covers usage — and how a line key names a grant.
 */
const UNIT: Record<RatedCharge['kind'], LineUnit> = {
  gpu: 'gpu_second',
  cpu: 'core_second',
  memory: 'gib_second',
};
export const USAGE_KINDS = new Set(['gpu', 'cpu', 'memory']);
const KIND_ORDER = ['gpu', 'cpu', 'memory', 'plan_fee', 'credits', 'credit_grant', 'adjustment'];

/** A usage line's description, by its key (`gpu:<type>`, `cpu`, `memory`) and quantity. */
export function describeUsage(key: string, quantity: string): string {
  if (key.startsWith('gpu:')) return `${key.slice(4)} GPU time: ${quantity} GPU-seconds`;
  if (key === 'cpu') return `CPU: ${quantity} core-seconds`;
  return `Memory: ${quantity} GiB-seconds`;
}

function usageLine(workspaceId: string, period: string, charge: RatedCharge): InvoiceLine {
  const quantity = quantityInUnits(charge.kind, charge.quantity_ms);
  return {
    id: lineId(workspaceId, period, charge.key),
    key: charge.key,
    kind: charge.kind,
    description: describeUsage(charge.key, quantity),
    quantity,
    unit: UNIT[charge.kind],
    unit_price: charge.pieces.length === 1 ? charge.pieces[0].unit_price : null,
    prices: charge.pieces.map((p) => ({
      from: new Date(p.from_ms).toISOString(),
      to: new Date(p.to_ms).toISOString(),
      unit_price: p.unit_price,
      quantity: quantityInUnits(charge.kind, p.quantity_ms),
      amount: p.amount.toFixed(),
    })),
    amount: formatAmount(charge.amount),
    breakdown: [...charge.breakdown.values()]
      .sort((a, b) => a.app_id.localeCompare(b.app_id) || a.function_id.localeCompare(b.function_id))
      .map((b) => ({
        app_id: b.app_id,
        function_id: b.function_id,
        quantity: quantityInUnits(charge.kind, b.quantity_ms),
        amount: formatAmount(b.amount),
      })),
  };
}

export function sum(lines: readonly InvoiceLine[], filter: (l: InvoiceLine) => boolean = () => true): Money {
  return lines.filter(filter).reduce((acc, l) => acc.plus(l.amount), new Money(0));
}

/** The line key of a grant's credit: `credits` for the plan's monthly credits (as before grants). */
export function grantLineKey(grant: Pick<CreditGrant, 'grant_id' | 'kind'>): string {
  return grant.kind === 'plan' ? 'credits' : `credit_grant:${grant.grant_id}`;
}

/** The grant a credit line key (own, or an adjustment's `adjusts.key`) of `period` draws on. */
export function grantIdOfKey(key: string, period: string): string | undefined {
  if (key === 'credits') return `plan:${period}`;
  return key.startsWith('credit_grant:') ? key.slice('credit_grant:'.length) : undefined;
}

/**
 * What each grant gave on an invoice, per grant id: its own credit lines and the credit parts
 * of its adjustment lines (the ledger of consumption is made of these).
 */
export function grantConsumption(lines: readonly InvoiceLine[], period: string): Map<string, Money> {
  const out = new Map<string, Money>();
  for (const l of lines) {
    const id =
      l.kind === 'credits'
        ? grantIdOfKey(l.key, period)
        : l.kind === 'adjustment' && l.adjusts
          ? grantIdOfKey(l.adjusts.key, l.adjusts.period)
          : undefined;
    if (id !== undefined) out.set(id, (out.get(id) ?? new Money(0)).minus(l.amount));
  }
  return out;
}

/**
 * The lines a period earns on its own: one per GPU type, CPU, memory (each rounded once),
 * the plan's base fee, and a credit line per grant that covers some of the usage — the plan's
 * monthly credits among them — taken in the grants' order (credit-grants.ts), never more
 * than the usage they offset (credits do not offset the fee) nor than a grant has available.
 */
export function periodLines(
  workspaceId: string,
  period: string,
  plan: PlanTerms,
  charges: ReadonlyMap<string, RatedCharge>,
  grants: readonly OfferedGrant[],
): InvoiceLine[] {
  const lines = [...charges.values()].map((c) => usageLine(workspaceId, period, c));
  const fee = roundToCents(new Money(plan.base_fee));
  if (fee.gt(0)) {
    lines.push({
      id: lineId(workspaceId, period, 'plan_fee'),
      key: 'plan_fee',
      kind: 'plan_fee',
      description: `${plan.plan} plan: monthly base fee`,
      quantity: '1',
      unit: 'month',
      unit_price: formatAmount(fee),
      prices: [],
      amount: formatAmount(fee),
      breakdown: [],
    });
  }
  const usage = sum(lines, (l) => USAGE_KINDS.has(l.kind));
  for (const { grant, applied } of allocate(usage, grants)) {
    if (!applied.gt(0)) continue;
    const key = grantLineKey(grant);
    lines.push({
      id: lineId(workspaceId, period, key),
      key,
      kind: 'credits',
      description:
        grant.kind === 'plan'
          ? grant.reason
          : `Credit grant ${grant.grant_id} (${grant.kind}): ${grant.reason}`,
      quantity: formatAmount(applied),
      unit: 'usd',
      unit_price: '-1',
      prices: [],
      amount: formatAmount(applied.neg()),
      breakdown: [],
    });
  }
  return lines;
}

export function compareKeys(a: string, b: string): number {
  const ka = KIND_ORDER.indexOf(a.split(':')[0]);
  const kb = KIND_ORDER.indexOf(b.split(':')[0]);
  return ka - kb || (a < b ? -1 : a > b ? 1 : 0);
}
