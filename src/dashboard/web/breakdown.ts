import type { Schemas } from '../../api-client/client';
import { byId, part, row, text } from './dom';
import { cents } from './format';

type Breakdown = Schemas['UsageBreakdownResponse'];
type Row = Schemas['BreakdownRowResponse'];
type Figures = Schemas['BreakdownFiguresResponse'];
interface Sort {
  key: string;
  descending: boolean;
}

/** Each table's sort, kept while the user stays signed in. */
const sorts = new WeakMap<HTMLElement, Sort>();
export function resetSorts(): void {
  for (const id of ['by-app', 'by-function']) sorts.delete(byId(id));
}

const SORT_VALUE: Record<string, (r: Row) => string | bigint> = {
  name: (r) => [r.app_id, r.function_id ?? ''].join('\u0000'),
  gpu_seconds: (r) => BigInt(r.gpu_ms),
  amount: (r) => cents(r.amount),
};

function breakdownCell(entry: Figures, type: string): HTMLTableCellElement {
  const c = entry.by_gpu_type.find((x) => x.gpu_type === type);
  const td = document.createElement('td');
  td.className = 'num';
  td.dataset.gpuType = type;
  if (c) td.append(text('span', c.amount, 'amount'), text('span', `${c.gpu_seconds} GPU-s`, 'quantity'));
  else td.textContent = '—';
  return td;
}

/** A breakdown by app or by function: sortable by any column, the rest as "other", a total. */
export function renderBreakdown(tableId: string, data: Breakdown, noun: string): void {
  const table = byId<HTMLTableElement>(tableId);
  const byFunction = data.by === 'function_id';
  const state = sorts.get(table) ?? { key: 'amount', descending: true };
  sorts.set(table, state);
  const head = document.createElement('tr');
  // The entry's totals first, so they stay in view when nine GPU types need a scroll.
  const columns: Array<[string, string, boolean]> = [
    ['name', byFunction ? 'App / function' : 'App', false],
    ['amount', 'Amount (USD)', true],
    ['gpu_seconds', 'GPU-seconds', true],
    ...data.gpu_types.map((t): [string, string, boolean] => [`type:${t}`, t, true]),
  ];
  for (const [key, label, numeric] of columns) {
    const th = document.createElement('th');
    th.scope = 'col';
    if (numeric) th.className = 'num';
    const button = text('button', label, 'sort');
    button.type = 'button';
    button.dataset.sortKey = key;
    if (state.key === key) th.setAttribute('aria-sort', state.descending ? 'descending' : 'ascending');
    button.addEventListener('click', () => {
      sorts.set(table, { key, descending: state.key === key ? !state.descending : key !== 'name' });
      renderBreakdown(tableId, data, noun);
      // The heading re-rendered: focus goes back to its button, for keyboard users.
      for (const b of table.querySelectorAll<HTMLButtonElement>('thead button'))
        if (b.dataset.sortKey === key) b.focus();
    });
    th.appendChild(button);
    head.appendChild(th);
  }
  part(table, 'thead').replaceChildren(head);
  const valueOf = state.key.startsWith('type:')
    ? (r: Row) => {
        const c = r.by_gpu_type.find((x) => x.gpu_type === state.key.slice(5));
        return c ? cents(c.amount) : -1n;
      }
    : SORT_VALUE[state.key];
  const rows = [...data.rows].sort((a, b) => {
    const x = valueOf(a);
    const y = valueOf(b);
    const c = x < y ? -1 : x > y ? 1 : 0;
    return state.descending ? -c : c;
  });
  const line = (label: string, entry: Figures, className?: string) => {
    const tr = document.createElement('tr');
    if (className) tr.className = className;
    const th = text('th', label);
    th.scope = 'row';
    tr.appendChild(th);
    tr.append(text('td', entry.amount, 'num total'), text('td', entry.gpu_seconds, 'num gpu-seconds'));
    for (const t of data.gpu_types) tr.appendChild(breakdownCell(entry, t));
    return tr;
  };
  part(table, 'tbody').replaceChildren(
    ...(rows.length === 0
      ? [row([[`No usage by ${noun} in this month.`]])]
      : rows.map((r) => line(byFunction ? `${r.app_id} / ${r.function_id}` : r.app_id, r))),
  );
  const foot: HTMLTableRowElement[] = [];
  if (data.other)
    foot.push(
      line(`Other (${data.other.count} ${noun}${data.other.count === 1 ? '' : 's'})`, data.other, 'other'),
    );
  if (rows.length > 0) foot.push(line('Total', data.totals, 'sum'));
  part(table, 'tfoot').replaceChildren(...foot);
}
