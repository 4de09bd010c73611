import type { Schemas } from '../../api-client/client';
import { byId, part, row, text } from './dom';
import { monthLabel, periodOf } from './format';

type Invoice = Schemas['InvoiceResponse'];

/** The month's invoice (or the upcoming one), line by line. */
export function renderInvoice(
  period: string,
  invoice: Invoice | Schemas['UpcomingInvoiceResponse'] | null,
  isCurrent: boolean,
): void {
  byId('invoice-title').textContent = `${isCurrent ? 'Upcoming invoice' : 'Invoice'} — ${monthLabel(period)}`;
  const link = byId<HTMLAnchorElement>('invoice-link');
  const url = invoice && 'stripe' in invoice ? invoice.stripe?.hosted_invoice_url : null;
  link.hidden = !url;
  if (url) link.href = url;
  else link.removeAttribute('href');
  byId('invoice-lines').hidden = !invoice;
  if (!invoice) {
    byId('invoice-status').textContent =
      'No invoice for this month yet: it is made once the month has closed.';
    return;
  }
  byId('invoice-status').textContent =
    isCurrent || !('finalized_at' in invoice)
      ? 'As it stands now; final once the month has closed.'
      : `${invoice.id} · ${invoice.status}${invoice.finalized_at ? ` · finalized ${invoice.finalized_at.slice(0, 10)}` : ''}${invoice.paid_at ? ` · paid ${invoice.paid_at.slice(0, 10)}` : ''}`;
  part(byId('invoice-lines'), 'tbody').replaceChildren(
    ...invoice.lines.map((l) => {
      const tr = row([
        [l.adjusts ? `${l.description} (adjusts ${l.adjusts.period})` : l.description],
        [`${l.quantity} ${l.unit}`, true],
        [l.unit_price === null ? 'several' : l.unit_price, true],
        [l.amount, true],
      ]);
      tr.dataset.kind = l.kind;
      return tr;
    }),
  );
  byId('invoice-total').textContent = `${invoice.total} ${invoice.currency.toUpperCase()}`;
}

/** Every invoice of the workspace (all pages of GET /v1/invoices), each opening its month. */
export function renderInvoiceList(list: readonly Invoice[], pickMonth: (period: string) => void): void {
  part(byId('invoices'), 'tbody').replaceChildren(
    ...list.map((inv) => {
      const tr = document.createElement('tr');
      const month = document.createElement('td');
      const show = text('button', monthLabel(inv.period), 'link');
      show.type = 'button';
      show.addEventListener('click', () => pickMonth(inv.period));
      month.appendChild(show);
      tr.append(
        month,
        text('td', inv.id),
        text('td', inv.status),
        text('td', `${inv.total} ${inv.currency.toUpperCase()}`, 'num'),
      );
      return tr;
    }),
  );
  byId('invoices').hidden = list.length === 0;
  byId('invoices-empty').hidden = list.length > 0;
}

/** The month picker: this month, the twelve before it, and every month with an invoice. */
export function fillMonths(current: string, invoices: readonly Invoice[]): void {
  const select = byId<HTMLSelectElement>('month');
  const periods = new Set([current]);
  const [y, m] = current.split('-').map(Number);
  for (let back = 1; back <= 12; back++) periods.add(periodOf(Date.UTC(y, m - 1 - back, 1)));
  for (const inv of invoices) periods.add(inv.period);
  const wanted = [...periods].sort().reverse();
  const chosen = select.value || current;
  select.replaceChildren(
    ...wanted.map((p) => {
      const option = text('option', p === current ? `${monthLabel(p)} (this month)` : monthLabel(p));
      option.value = p;
      return option;
    }),
  );
  select.value = wanted.includes(chosen) ? chosen : current;
  byId('month-picker').hidden = false;
}
