import type uPlot from 'uplot';
import type { Schemas } from '../../api-client/client';
import { byId, part, text } from './dom';
import { cents, centsText, monthLabel, monthStart, nextMonthStart, usd } from './format';
import { type Pivot, state } from './state';

/**
 * The month's usage per day: a day × GPU type table (every figure the API's exact string) and
 * a chart stacked by GPU type, drawn with uPlot (served by this origin as its own script, so
 * the page still works where it cannot load or draw).
 */
declare global {
  interface Window {
    uPlot?: typeof uPlot;
  }
}

type UsageRow = Schemas['UsageRowResponse'];

/** Okabe–Ito's colour-blind-safe set, then three more: one per GPU type, in name order. */
const COLOURS = [
  '#0072B2',
  '#E69F00',
  '#009E73',
  '#CC79A7',
  '#56B4E9',
  '#D55E00',
  '#F0E442',
  '#000000',
  '#7F7F7F',
  '#8C564B',
  '#17BECF',
  '#9467BD',
];

let chart: uPlot | null = null;

/** The month's days (UTC), as 'YYYY-MM-DD', from its first through its last (or today). */
function daysOf(period: string, nowMs: number): string[] {
  const days: string[] = [];
  const end = Math.min(nextMonthStart(period), nowMs + 1);
  for (let t = monthStart(period); t < end; t += 86_400_000)
    days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}

export function renderPivot(usage: Schemas['UsageResponse'], period: string): Pivot {
  const types = [...new Set(usage.rows.map((r) => r.gpu_type ?? ''))].sort();
  const cells = new Map<string, UsageRow>();
  const dayCents = new Map<string, bigint>();
  for (const r of usage.rows) {
    const day = r.window_start.slice(0, 10);
    cells.set(`${day} ${r.gpu_type}`, r);
    dayCents.set(day, (dayCents.get(day) ?? 0n) + cents(r.amount));
  }
  const days = [...dayCents.keys()].sort();
  const head = document.createElement('tr');
  head.append(text('th', 'Day (UTC)'), ...types.map((t) => text('th', t, 'num')), text('th', 'Total', 'num'));
  for (const th of head.children) (th as HTMLTableCellElement).scope = 'col';
  const table = byId('daily');
  part(table, 'thead').replaceChildren(head);
  part(table, 'tbody').replaceChildren(
    ...days.map((day) => {
      const tr = document.createElement('tr');
      const th = text('th', day);
      th.scope = 'row';
      tr.appendChild(th);
      for (const t of types) {
        const r = cells.get(`${day} ${t}`);
        const td = document.createElement('td');
        td.className = 'num';
        td.dataset.gpuType = t;
        if (r)
          td.append(text('span', r.amount, 'amount'), text('span', `${r.gpu_seconds} GPU-s`, 'quantity'));
        else td.textContent = '—';
        tr.appendChild(td);
      }
      tr.appendChild(text('td', centsText(dayCents.get(day) ?? 0n), 'num total'));
      return tr;
    }),
  );
  table.hidden = days.length === 0;
  const empty = byId('daily-empty');
  empty.hidden = usage.rows.length > 0;
  empty.textContent = `No usage in ${monthLabel(period)}${state.shown && period === state.shown.current ? ' yet' : ''}.`;
  return { types, cells };
}

function canDraw(): boolean {
  if (typeof window.uPlot !== 'function') return false;
  try {
    return !!document.createElement('canvas').getContext('2d');
  } catch {
    return false;
  }
}

export function destroyChart(): void {
  chart?.destroy();
  chart = null;
}

/** The chart follows its container's width. */
export function resizeChart(): void {
  chart?.setSize({ width: Math.max(280, byId('daily-chart').clientWidth), height: 240 });
}

/**
 * The daily chart, stacked by GPU type: series k holds the sum of the first k+1 types, and
 * the series are drawn from the top of the stack down, so each type shows as its own band.
 * Heights are drawn from Numbers; every figure a person reads (tooltip, table) is the API's
 * exact string.
 */
export function renderChart(usage: Schemas['UsageResponse'], period: string, pivot: Pivot): void {
  const figure = byId('chart-figure');
  const container = byId('daily-chart');
  destroyChart();
  const draw = usage.rows.length > 0 && canDraw();
  figure.hidden = !draw;
  byId('chart-unavailable').hidden = draw || usage.rows.length === 0;
  const { types, cells } = pivot;
  const days = daysOf(period, Date.now());
  const measure = state.measure;
  const unit = measure === 'amount' ? 'USD' : 'GPU-seconds';
  container.setAttribute(
    'aria-label',
    `${measure === 'amount' ? 'Cost' : 'GPU-seconds'} per day in ${monthLabel(period)}, stacked by GPU type (${types.join(', ')})`,
  );
  byId('chart-legend').replaceChildren(
    ...types.map((t, i) => {
      const li = document.createElement('li');
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.background = COLOURS[i % COLOURS.length];
      li.append(swatch, text('span', t));
      return li;
    }),
  );
  const UPlot = window.uPlot;
  if (!draw || !UPlot) return;
  // Bar heights only (uPlot draws Numbers); every figure a person reads stays the API's exact string.
  const value = (r: UsageRow) =>
    measure === 'amount' ? Number(cents(r.amount)) / 100 : Number(r.gpu_ms) / 1000;
  const running = days.map(() => 0);
  const stacked = types.map((t) =>
    days.map((day, i) => {
      const r = cells.get(`${day} ${t}`);
      running[i] += r ? value(r) : 0;
      return running[i];
    }),
  );
  const xs = days.map((d) => Date.parse(`${d}T00:00:00Z`) / 1000);
  const order = types.map((_, i) => i).reverse(); // the top of the stack first
  const bars = UPlot.paths.bars!({ size: [0.7, 48], align: 0 });
  // The tooltip lives in the chart's own cursor layer, so it goes with the chart.
  const tooltip = document.createElement('div');
  tooltip.id = 'chart-tooltip';
  tooltip.hidden = true;
  const showTooltip = (u: uPlot) => {
    const idx = u.cursor.idx;
    const left = u.cursor.left ?? -1;
    if (idx == null || left < 0) {
      tooltip.hidden = true;
      return;
    }
    const day = days[idx];
    const lines: HTMLElement[] = [text('strong', day)];
    let total = 0n;
    for (const t of types) {
      const r = cells.get(`${day} ${t}`);
      if (!r) continue;
      total += cents(r.amount);
      lines.push(text('span', `${t}: ${r.gpu_seconds} GPU-s · ${usd(r.amount)}`));
    }
    if (lines.length === 1) lines.push(text('span', 'no usage'));
    else lines.push(text('span', `Total: ${usd(centsText(total))}`, 'total'));
    tooltip.replaceChildren(...lines);
    tooltip.hidden = false;
    // Beside the cursor, flipped to its left near the right edge.
    const right = left + 12 + tooltip.offsetWidth > u.over.clientWidth;
    tooltip.style.left = `${Math.max(0, right ? left - 12 - tooltip.offsetWidth : left + 12)}px`;
    tooltip.style.top = '8px';
  };
  chart = new UPlot(
    {
      width: Math.max(280, container.clientWidth || figure.clientWidth || 800),
      height: 240,
      legend: { show: false },
      cursor: { drag: { x: false, y: false }, points: { show: false } },
      scales: { x: { time: true, range: [xs[0] - 43_200, xs[xs.length - 1] + 43_200] } },
      axes: [
        {
          // One tick a day at most (whole UTC days), labelled MM-DD.
          stroke: '#1d2330',
          grid: { stroke: '#e4e6eb' },
          incrs: [86_400, 2 * 86_400, 7 * 86_400],
          values: (_u, ticks) => ticks.map((s) => new Date(s * 1000).toISOString().slice(5, 10)),
        },
        { stroke: '#1d2330', grid: { stroke: '#e4e6eb' }, size: 64, label: unit },
      ],
      series: [
        { value: (_u, v) => (v == null ? '' : new Date(v * 1000).toISOString().slice(0, 10)) },
        ...order.map((i) => ({
          label: types[i],
          fill: COLOURS[i % COLOURS.length],
          stroke: COLOURS[i % COLOURS.length],
          width: 0,
          paths: bars,
          points: { show: false },
        })),
      ],
      hooks: { ready: [(u) => void u.over.appendChild(tooltip)], setCursor: [showTooltip] },
    },
    [xs, ...order.map((i) => stacked[i])],
    container,
  );
}
