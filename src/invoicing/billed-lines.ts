import { formatAmount, Money } from '../catalog/money';
import { InvoiceLine, LineBreakdown, lineId, LinePrice, LineUnit } from './invoice';

import { compareKeys, describeUsage, sum, USAGE_KINDS } from './invoice-lines';

/**
 * What earlier invoices billed for a month, and what is left to bill (pure): adjustment lines
 * for late usage of a closed month, and a month billed in parts net of its earlier invoices.
 */
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
