import type { Schemas } from '../../api-client/client';
import { byId, part } from './dom';
import { cents, centsText, money, monthLabel, usd } from './format';

/** The summary cards: spend, forecast, credits, plan. */
export function card(id: string, value: string, note?: string): void {
  const el = byId(id);
  el.hidden = false;
  part(el, '.value').textContent = value;
  part(el, '.note').textContent = note ?? '';
}

export function titleCards(titles: ReadonlyArray<readonly [string, string]>): void {
  for (const [id, title] of titles) part(byId(id), 'h2').textContent = title;
}

export function renderCurrentCards(
  spend: Schemas['CurrentSpendResponse'],
  upcoming: Schemas['UpcomingInvoiceResponse'],
): void {
  const parts = [`usage ${money(spend.usage)}`, `credits −${money(spend.credits_applied)}`];
  if (spend.plan_fee.amount !== '0.00') parts.push(`plan fee ${money(spend.plan_fee)}`);
  if (spend.adjustments.amount !== '0.00') parts.push(`earlier months ${money(spend.adjustments)}`);
  // Threshold invoices: part of the month was charged already (the month-end invoice bills the rest).
  const billed = spend.threshold_invoices ?? [];
  if (billed.length > 0)
    parts.push(
      `charged mid-month ${money(spend.billed_on_threshold_invoices)} (${billed.length} invoice${billed.length > 1 ? 's' : ''})`,
    );
  card('card-spend', money(spend.spend_so_far), parts.join(' · '));
  card('card-forecast', money(spend.forecast.total), 'if usage goes on at the rate so far');
  // Credit grants beside the plan's credits: what they have left after the month so far.
  const grants = spend.credit_grants ?? [];
  const grantNote = grants.length > 0 ? ` · credit grants: ${money(spend.credit_balance)} left` : '';
  card(
    'card-credits',
    money(spend.credits_left),
    `of ${money(spend.monthly_credits)} this month${grantNote}`,
  );
  card(
    'card-plan',
    spend.plan || 'none',
    `${usd(upcoming.plan.base_fee)} a month, ${usd(upcoming.plan.monthly_credits)} of credits`,
  );
}

export function renderPastCards(
  period: string,
  invoice: Schemas['InvoiceResponse'] | null,
  usage: Schemas['UsageResponse'],
  monthInvoices: readonly Schemas['InvoiceResponse'][],
): void {
  byId('card-forecast').hidden = true;
  if (invoice && monthInvoices.length > 1) {
    // Billed in parts (threshold invoices, then the month-end one): the month is their sum.
    const total = monthInvoices.reduce((sum, i) => sum + cents(i.total), 0n);
    card(
      'card-spend',
      usd(centsText(total)),
      `${monthInvoices.length} invoices: ${monthInvoices.length - 1} mid-month, the month-end one ${invoice.status}`,
    );
  } else if (invoice) {
    card('card-spend', usd(invoice.total), `invoice ${invoice.status}`);
    card('card-credits', usd(invoice.credits_applied), `applied, of ${usd(invoice.plan.monthly_credits)}`);
    card(
      'card-plan',
      invoice.plan.plan || 'none',
      `${usd(invoice.plan.base_fee)} a month, ${usd(invoice.plan.monthly_credits)} of credits`,
    );
  } else {
    card('card-spend', usd(usage.totals.amount), `usage in ${monthLabel(period)}; not invoiced yet`);
    card('card-credits', '—', 'shown once the month is invoiced');
    card('card-plan', '—', 'shown once the month is invoiced');
  }
  titleCards([
    ['card-spend', invoice ? 'Invoice total' : 'Usage'],
    ['card-credits', 'Credits applied'],
  ]);
}
