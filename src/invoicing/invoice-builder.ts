import { CURRENCY, formatAmount, Money, roundToCents } from '../catalog/money';
import { PlanTerms } from '../catalog/price-catalog';
import { quantityInUnits, RatedCharge } from '../catalog/rating';
import { BillingPeriod } from './billing-period';
import { allocate, CreditGrant, OfferedGrant } from './credit-grants';
import {
  CreditGrantUse,
  InvoiceDocument,
  invoiceId,
  InvoiceLine,
  LineBreakdown,
  lineId,
  LinePrice,
  LineUnit,
} from './invoice';

const UNIT: Record<RatedCharge['kind'], LineUnit> = {
  gpu: 'gpu_second',
  cpu: 'core_second',
  memory: 'gib_second',
};
const USAGE_KINDS = new Set(['gpu', 'cpu', 'memory']);
const KIND_ORDER = ['gpu', 'cpu', 'memory', 'plan_fee', 'credits', 'credit_grant', 'adjustment'];

/** A usage line's description, by its key (`gpu:<type>`, `cpu`, `memory`) and quantity. */
function describeUsage(key: string, quantity: string): string {
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

function sum(lines: readonly InvoiceLine[], filter: (l: InvoiceLine) => boolean = () => true): Money {
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

/** What earlier invoices charged for one period, per line key (amounts and quantities). */
export type BilledByKey = Map<
  string,
  { amount: Money; quantity: Money; description: string; unit: LineUnit }
>;

export function billedByKey(lines: readonly InvoiceLine[], period: string): BilledByKey {
  const billed: BilledByKey = new Map();
  for (const l of lines) {
    const key = l.kind === 'adjustment' ? (l.adjusts?.period === period ? l.adjusts.key : undefined) : l.key;
    if (key === undefined) continue;
    const b = billed.get(key) ?? {
      amount: new Money(0),
      quantity: new Money(0),
      description: l.description,
      unit: l.unit,
    };
    b.amount = b.amount.plus(l.amount);
    b.quantity = b.quantity.plus(l.quantity);
    if (l.kind !== 'adjustment') b.description = l.description;
    billed.set(key, b);
  }
  return billed;
}

/**
 * Everything billed for `period`: the lines of its own invoice, and the adjustment lines for
 * it on later invoices — never a later invoice's own lines, which bill its own month.
 */
export function billedForPeriod(
  period: string,
  ownLines: readonly InvoiceLine[],
  laterInvoicesLines: readonly InvoiceLine[],
): BilledByKey {
  return billedByKey(
    [
      ...ownLines,
      ...laterInvoicesLines.filter((l) => l.kind === 'adjustment' && l.adjusts?.period === period),
    ],
    period,
  );
}

/**
 * Adjustment lines for an earlier, finalized period: the period priced again with all the
 * usage known now, minus everything already billed for it (its invoice and earlier
 * adjustments), per line key. Over time the charges for a period add up to exactly what
 * its invoice would have been had all its usage arrived on time.
 */
export function adjustmentLines(
  workspaceId: string,
  invoicePeriod: string,
  adjustedPeriod: string,
  recomputed: readonly InvoiceLine[],
  billed: BilledByKey,
): InvoiceLine[] {
  const now = billedByKey(recomputed, adjustedPeriod);
  const keys = [...new Set([...now.keys(), ...billed.keys()])].sort(compareKeys);
  const out: InvoiceLine[] = [];
  for (const key of keys) {
    const is = now.get(key);
    const was = billed.get(key);
    const amount = (is?.amount ?? new Money(0)).minus(was?.amount ?? 0);
    const quantity = (is?.quantity ?? new Money(0)).minus(was?.quantity ?? 0);
    if (amount.isZero() && quantity.isZero()) continue;
    const unit = (is ?? was)!.unit;
    out.push({
      id: lineId(workspaceId, invoicePeriod, `adjustment:${adjustedPeriod}:${key}`),
      key: `adjustment:${adjustedPeriod}:${key}`,
      kind: 'adjustment',
      description: `Adjustment for ${adjustedPeriod} (usage recorded after it was invoiced): ${(is ?? was)!.description}`,
      quantity: quantity.toFixed(),
      unit,
      unit_price: null,
      prices: [],
      amount: formatAmount(amount), // a difference of rounded amounts: already whole cents
      breakdown: [],
      adjusts: { period: adjustedPeriod, key },
    });
  }
  return out;
}

export function compareKeys(a: string, b: string): number {
  const ka = KIND_ORDER.indexOf(a.split(':')[0]);
  const kb = KIND_ORDER.indexOf(b.split(':')[0]);
  return ka - kb || (a < b ? -1 : a > b ? 1 : 0);
}

/**
 * A month billed in parts (threshold invoices): `current` — the month's own lines, so far or
 * whole — less what `billed` (the month's earlier invoices' lines) charged, key by key: the
 * quantity and amount of each line, of each price piece (exact) and of each app/function row.
 * A key with nothing left is left out; lines keep their key, ids are `<invoice id>:<key>`. So
 * the month's invoices add up, line by line, to the month billed at once.
 */
export function linesNetOf(
  docId: string,
  current: readonly InvoiceLine[],
  billed: readonly InvoiceLine[],
): InvoiceLine[] {
  const earlier = new Map<string, InvoiceLine[]>();
  for (const l of billed) earlier.set(l.key, [...(earlier.get(l.key) ?? []), l]);
  const keys = [...new Set([...current.map((l) => l.key), ...earlier.keys()])].sort(compareKeys);
  const out: InvoiceLine[] = [];
  for (const key of keys) {
    const now = current.find((l) => l.key === key);
    const before = earlier.get(key) ?? [];
    const billedQuantity = before.reduce((a, l) => a.plus(l.quantity), new Money(0));
    const billedAmount = sum(before);
    const quantity = new Money(now?.quantity ?? 0).minus(billedQuantity);
    const amount = new Money(now?.amount ?? 0).minus(billedAmount);
    if (quantity.isZero() && amount.isZero()) continue;
    // A line's events are attached when it is finalized; billed_before is set below.
    const template: InvoiceLine = { ...(now ?? before[before.length - 1]) };
    delete template.events;
    delete template.billed_before;
    const prices = netPieces(
      now?.prices ?? [],
      before.flatMap((l) => l.prices),
    );
    out.push({
      ...template,
      id: `${docId}:${key}`,
      description: USAGE_KINDS.has(template.kind)
        ? describeUsage(key, quantity.toFixed())
        : template.description,
      quantity: quantity.toFixed(),
      unit_price:
        template.prices.length > 0
          ? prices.length === 1
            ? prices[0].unit_price
            : null
          : template.unit_price,
      prices,
      amount: formatAmount(amount), // differences of rounded amounts: whole cents
      breakdown: netBreakdown(
        now?.breakdown ?? [],
        before.flatMap((l) => l.breakdown),
      ),
      ...(before.length > 0
        ? { billed_before: { quantity: billedQuantity.toFixed(), amount: formatAmount(billedAmount) } }
        : {}),
    });
  }
  return out;
}

function netPieces(now: readonly LinePrice[], before: readonly LinePrice[]): LinePrice[] {
  const pieces = new Map<string, { piece: LinePrice; quantity: Money; amount: Money }>();
  const add = (p: LinePrice, sign: 1 | -1) => {
    const k = `${p.from}|${p.to}|${p.unit_price}`;
    const e = pieces.get(k) ?? { piece: p, quantity: new Money(0), amount: new Money(0) };
    e.quantity = e.quantity.plus(new Money(p.quantity).times(sign));
    e.amount = e.amount.plus(new Money(p.amount).times(sign));
    pieces.set(k, e);
  };
  now.forEach((p) => add(p, 1));
  before.forEach((p) => add(p, -1));
  return [...pieces.values()]
    .filter((e) => !e.quantity.isZero() || !e.amount.isZero())
    .sort((a, b) => Date.parse(a.piece.from) - Date.parse(b.piece.from))
    .map((e) => ({ ...e.piece, quantity: e.quantity.toFixed(), amount: e.amount.toFixed() }));
}

function netBreakdown(now: readonly LineBreakdown[], before: readonly LineBreakdown[]): LineBreakdown[] {
  const rows = new Map<string, { row: LineBreakdown; quantity: Money; amount: Money }>();
  const add = (b: LineBreakdown, sign: 1 | -1) => {
    const k = `${b.app_id}\u0000${b.function_id}`;
    const e = rows.get(k) ?? { row: b, quantity: new Money(0), amount: new Money(0) };
    e.quantity = e.quantity.plus(new Money(b.quantity).times(sign));
    e.amount = e.amount.plus(new Money(b.amount).times(sign));
    rows.set(k, e);
  };
  now.forEach((b) => add(b, 1));
  before.forEach((b) => add(b, -1));
  return [...rows.values()]
    .filter((e) => !e.quantity.isZero() || !e.amount.isZero())
    .sort(
      (a, b) =>
        a.row.app_id.localeCompare(b.row.app_id) || a.row.function_id.localeCompare(b.row.function_id),
    )
    .map((e) => ({ ...e.row, quantity: e.quantity.toFixed(), amount: formatAmount(e.amount) }));
}

/**
 * What every invoice document opens with, in this order (content hashes depend on it): who,
 * which month, its plan, its lines and their totals — sums of the rounded lines.
 */
export function documentBody(
  id: string,
  workspaceId: string,
  period: BillingPeriod,
  plan: PlanTerms,
  lines: InvoiceLine[],
): Pick<
  InvoiceDocument,
  | 'id'
  | 'workspace_id'
  | 'period'
  | 'period_start'
  | 'period_end'
  | 'currency'
  | 'plan'
  | 'lines'
  | 'usage_subtotal'
  | 'credits_applied'
  | 'total'
> {
  return {
    id,
    workspace_id: workspaceId,
    period: period.toString(),
    period_start: new Date(period.startMs).toISOString(),
    period_end: new Date(period.endMs).toISOString(),
    currency: CURRENCY,
    plan,
    lines,
    usage_subtotal: formatAmount(sum(lines, (l) => USAGE_KINDS.has(l.kind))),
    credits_applied: formatAmount(sum(lines, (l) => l.kind === 'credits').neg()),
    total: formatAmount(sum(lines)),
  };
}

/**
 * Each grant in force for the invoice's month (and each one an adjustment line drew on): what
 * it had before the invoice, what the invoice took of it, what is left, and what of that
 * expired with the month (a grant whose expiry falls in it; a plan's credits always).
 */
export function grantUses(
  period: BillingPeriod,
  lines: readonly InvoiceLine[],
  before: ReadonlyArray<{ grant: CreditGrant; balance: Money }>,
): CreditGrantUse[] {
  const taken = grantConsumption(lines, period.toString());
  return before
    .filter(
      ({ grant }) => grant.kind !== 'plan' || taken.has(grant.grant_id) || new Money(grant.amount).gt(0),
    )
    .map(({ grant, balance }) => {
      const applied = taken.get(grant.grant_id) ?? new Money(0);
      const after = Money.max(balance.minus(applied), 0);
      const expires = grant.expires_at_ms !== null && grant.expires_at_ms <= period.endMs;
      return {
        grant_id: grant.grant_id,
        kind: grant.kind,
        priority: grant.priority,
        expires_at: grant.expires_at_ms === null ? null : new Date(grant.expires_at_ms).toISOString(),
        balance_before: formatAmount(balance),
        applied: formatAmount(applied),
        balance_after: formatAmount(after),
        expired: formatAmount(expires && grant.voided_at_ms === null ? after : new Money(0)),
      };
    });
}

/** The invoice for (workspace, period): its own lines, then adjustments; totals are sums of rounded lines. */
export function buildInvoice(input: {
  workspaceId: string;
  period: BillingPeriod;
  plan: PlanTerms;
  charges: ReadonlyMap<string, RatedCharge>;
  adjustments: readonly InvoiceLine[];
  /** Grants in force for the month, each with what it has left after the adjustments. */
  grants?: readonly OfferedGrant[];
  /** The same grants' balances before this invoice (adjustments included), for `credit_grants`. */
  grantBalances?: ReadonlyArray<{ grant: CreditGrant; balance: Money }>;
  /** The month's finalized threshold invoices: this invoice bills the rest of the month. */
  thresholdInvoices?: readonly InvoiceDocument[];
  computedAt: Date;
}): InvoiceDocument {
  const period = input.period.toString();
  const id = invoiceId(input.workspaceId, period);
  const whole = periodLines(input.workspaceId, period, input.plan, input.charges, input.grants ?? []).sort(
    (a, b) => compareKeys(a.key, b.key),
  );
  const earlier = input.thresholdInvoices ?? [];
  const own =
    earlier.length === 0
      ? whole
      : linesNetOf(
          id,
          whole,
          earlier.flatMap((d) => d.lines),
        );
  const lines = [...own, ...input.adjustments];
  return {
    ...documentBody(id, input.workspaceId, input.period, input.plan, lines),
    credit_grants: grantUses(input.period, lines, input.grantBalances ?? []),
    ...(earlier.length > 0 ? { threshold_invoices: earlier.map((d) => d.id) } : {}),
    computed_at: input.computedAt.toISOString(),
  };
}
