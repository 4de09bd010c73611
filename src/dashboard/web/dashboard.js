// The customer usage dashboard: plain script, no build step. Its one library is uPlot (the
// chart), served from the installed package by this origin. It reads the same API a
// customer's own tooling would (spend, usage, breakdowns, invoices, budget alerts) with the
// workspace key the user types in, kept for this tab only (sessionStorage). Values from the
// API are only ever set as text (textContent), never parsed as HTML: app and function ids
// are customer-supplied.
'use strict';

(function () {
  const KEY = 'gpumeter.workspace_key';
  const byId = (id) => document.getElementById(id);
  const BREAKDOWN_LIMIT = 20;
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

  function text(tag, value, className) {
    const node = document.createElement(tag);
    node.textContent = value;
    if (className) node.className = className;
    return node;
  }

  function row(cells) {
    const tr = document.createElement('tr');
    for (const [value, numeric] of cells) tr.appendChild(text('td', value, numeric ? 'num' : ''));
    return tr;
  }

  const usd = (amount) => `${amount} USD`;
  const money = (m) => `${m.amount} ${m.currency.toUpperCase()}`;

  /** An amount with exactly two decimals, as the API writes them, in cents: exact, as a BigInt. */
  const cents = (amount) => BigInt(amount.replace('.', ''));
  function centsText(c) {
    const sign = c < 0n ? '-' : '';
    const a = c < 0n ? -c : c;
    return `${sign}${a / 100n}.${String(a % 100n).padStart(2, '0')}`;
  }

  /** 'YYYY-MM' of a time, in UTC (billing months are UTC). */
  const periodOf = (ms) => new Date(ms).toISOString().slice(0, 7);
  function monthStart(period) {
    const [y, m] = period.split('-').map(Number);
    return Date.UTC(y, m - 1, 1);
  }
  const nextMonthStart = (period) => {
    const [y, m] = period.split('-').map(Number);
    return Date.UTC(y, m, 1);
  };
  const monthLabel = (period) =>
    new Date(monthStart(period)).toLocaleString('en', { month: 'long', year: 'numeric', timeZone: 'UTC' });

  async function call(path) {
    const res = await fetch(path, { headers: { authorization: `Bearer ${sessionStorage.getItem(KEY)}` } });
    const body = await res.json().catch(() => ({}));
    if (res.status === 401 || res.status === 403) {
      signOut('That key was not accepted: use a workspace API key.');
      throw new Error('not signed in');
    }
    if (!res.ok) throw new Error((body.error && body.error.message) || `HTTP ${res.status}`);
    return body;
  }

  /** What is on screen: the workspace, the current month, the month shown and its usage. */
  let shown = null;
  /** Which measure the chart stacks: 'amount' or 'gpu_seconds'. */
  let measure = 'amount';
  let chart = null;
  /** Each load gets a number; an answer for an older load (the month changed since) is dropped. */
  let loadNumber = 0;

  // ---------------------------------------------------------------- summary cards

  function card(id, value, note) {
    const el = byId(id);
    el.hidden = false;
    el.querySelector('.value').textContent = value;
    el.querySelector('.note').textContent = note || '';
  }

  function renderCurrentCards(spend, upcoming) {
    const parts = [`usage ${money(spend.usage)}`, `credits −${money(spend.credits_applied)}`];
    if (spend.plan_fee.amount !== '0.00') parts.push(`plan fee ${money(spend.plan_fee)}`);
    if (spend.adjustments.amount !== '0.00') parts.push(`earlier months ${money(spend.adjustments)}`);
    // Threshold invoices: part of the month was charged already (the month-end invoice bills the rest).
    const billed = spend.threshold_invoices || [];
    if (billed.length > 0)
      parts.push(
        `charged mid-month ${money(spend.billed_on_threshold_invoices)} (${billed.length} invoice${billed.length > 1 ? 's' : ''})`,
      );
    card('card-spend', money(spend.spend_so_far), parts.join(' · '));
    card('card-forecast', money(spend.forecast.total), 'if usage goes on at the rate so far');
    // Credit grants beside the plan's credits: what they have left after the month so far.
    const grants = spend.credit_grants || [];
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

  function renderPastCards(period, invoice, usage, monthInvoices) {
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
    byId('card-spend').querySelector('h2').textContent = invoice ? 'Invoice total' : 'Usage';
    byId('card-credits').querySelector('h2').textContent = 'Credits applied';
  }

  const ALERT_TEXT = {
    'budget.threshold_reached': (a) => `${a.threshold} % of the budget reached`,
    'budget.exceeded': () => 'Budget exceeded',
    'budget.forecast_exceeded': () => 'Forecast to exceed the budget',
    'budget.cap_reached': () => 'Hard cap reached: new work is refused',
  };
  const DELIVERY_TEXT = {
    succeeded: 'delivered',
    failed: 'retrying',
    gave_up: 'not delivered',
    pending: 'sending',
  };

  function renderBudget(budget, alerts, isCurrent) {
    const el = byId('card-budget');
    const bar = byId('budget-bar');
    const note = el.querySelector('.note');
    bar.hidden = !(isCurrent && budget);
    if (isCurrent && budget) {
      const state = budget.exceeded
        ? 'exceeded'
        : budget.forecast_exceeds
          ? 'forecast to exceed'
          : 'within budget';
      el.querySelector('.value').textContent = `${budget.spent_percent} % of ${money(budget.monthly_limit)}`;
      note.textContent = `${state}; alerts at ${budget.thresholds.map((t) => `${t} %`).join(', ') || 'no thresholds'}${budget.enforce ? '; enforced (a hard cap)' : ''}`;
      // The bar's scale reaches the highest threshold or the spend, at least 100 %.
      const spent = Number(budget.spent_percent);
      const scale = Math.max(100, ...budget.thresholds, Math.min(spent, 200));
      bar.setAttribute('aria-valuemax', String(scale));
      bar.setAttribute('aria-valuenow', String(Math.min(spent, scale)));
      bar.setAttribute('aria-valuetext', `${budget.spent_percent} % of the budget spent`);
      const fill = bar.querySelector('.fill');
      fill.style.width = `${(Math.min(spent, scale) / scale) * 100}%`;
      fill.classList.toggle('over', budget.exceeded);
      bar.replaceChildren(
        fill,
        ...budget.thresholds.map((t) => {
          const mark = document.createElement('span');
          mark.className = budget.thresholds_reached.includes(t) ? 'mark reached' : 'mark';
          mark.style.left = `${(t / scale) * 100}%`;
          mark.title = `${t} %`;
          return mark;
        }),
      );
    } else {
      el.querySelector('.value').textContent = isCurrent ? 'No budget set' : 'Alerts that month';
      note.textContent = isCurrent
        ? 'Set one with PUT /v1/workspaces/{id}/budget to be alerted before you overspend.'
        : alerts.length === 0
          ? 'None.'
          : '';
    }
    byId('budget-alerts').replaceChildren(
      ...alerts.map((a) => {
        const li = document.createElement('li');
        li.append(
          text(
            'span',
            `${ALERT_TEXT[a.type](a)} at ${usd(a.spend)} (${a.decided_at.slice(0, 16).replace('T', ' ')} UTC)`,
          ),
        );
        if (a.notified.length > 0)
          li.append(
            text(
              'span',
              ` — sent to ${a.notified.map((n) => `${n.url} (${DELIVERY_TEXT[n.status] || n.status})`).join(', ')}`,
              'notified',
            ),
          );
        return li;
      }),
    );
  }

  // ---------------------------------------------------------------- daily chart and pivot

  /** The month's days (UTC), as 'YYYY-MM-DD', from its first through its last (or today). */
  function daysOf(period, nowMs) {
    const days = [];
    const end = Math.min(nextMonthStart(period), nowMs + 1);
    for (let t = monthStart(period); t < end; t += 86_400_000)
      days.push(new Date(t).toISOString().slice(0, 10));
    return days;
  }

  function renderPivot(usage, period) {
    const types = [...new Set(usage.rows.map((r) => r.gpu_type))].sort();
    const cells = new Map();
    const dayCents = new Map();
    for (const r of usage.rows) {
      const day = r.window_start.slice(0, 10);
      cells.set(`${day} ${r.gpu_type}`, r);
      dayCents.set(day, (dayCents.get(day) || 0n) + cents(r.amount));
    }
    const days = [...dayCents.keys()].sort();
    const head = document.createElement('tr');
    head.append(
      text('th', 'Day (UTC)'),
      ...types.map((t) => text('th', t, 'num')),
      text('th', 'Total', 'num'),
    );
    for (const th of head.children) th.scope = 'col';
    byId('daily').querySelector('thead').replaceChildren(head);
    byId('daily')
      .querySelector('tbody')
      .replaceChildren(
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
          tr.appendChild(text('td', centsText(dayCents.get(day)), 'num total'));
          return tr;
        }),
      );
    byId('daily').hidden = days.length === 0;
    const empty = byId('daily-empty');
    empty.hidden = usage.rows.length > 0;
    empty.textContent = `No usage in ${monthLabel(period)}${shown && period === shown.current ? ' yet' : ''}.`;
    return { types, cells };
  }

  function canDraw() {
    if (typeof window.uPlot !== 'function') return false;
    try {
      return !!document.createElement('canvas').getContext('2d');
    } catch {
      return false;
    }
  }

  /**
   * The daily chart, stacked by GPU type: series k holds the sum of the first k+1 types, and
   * the series are drawn from the top of the stack down, so each type shows as its own band.
   * Heights are drawn from Numbers; every figure a person reads (tooltip, table) is the API's
   * exact string.
   */
  function renderChart(usage, period, pivot) {
    const figure = byId('chart-figure');
    const container = byId('daily-chart');
    if (chart) {
      chart.destroy();
      chart = null;
    }
    const draw = usage.rows.length > 0 && canDraw();
    figure.hidden = !draw;
    byId('chart-unavailable').hidden = draw || usage.rows.length === 0;
    const { types, cells } = pivot;
    const days = daysOf(period, Date.now());
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
    if (!draw) return;
    const value = (r) => (measure === 'amount' ? Number(cents(r.amount)) / 100 : Number(r.gpu_ms) / 1000);
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
    const bars = window.uPlot.paths.bars({ size: [0.7, 48], align: 0 });
    // The tooltip lives in the chart's own cursor layer, so it goes with the chart.
    const tooltip = document.createElement('div');
    tooltip.id = 'chart-tooltip';
    tooltip.hidden = true;
    chart = new window.uPlot(
      {
        width: Math.max(320, container.clientWidth || figure.clientWidth || 800),
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
            values: (u, ticks) => ticks.map((s) => new Date(s * 1000).toISOString().slice(5, 10)),
          },
          { stroke: '#1d2330', grid: { stroke: '#e4e6eb' }, size: 64, label: unit },
        ],
        series: [
          { value: (u, v) => (v == null ? '' : new Date(v * 1000).toISOString().slice(0, 10)) },
          ...order.map((i) => ({
            label: types[i],
            fill: COLOURS[i % COLOURS.length],
            stroke: COLOURS[i % COLOURS.length],
            width: 0,
            paths: bars,
            points: { show: false },
          })),
        ],
        hooks: {
          ready: [(u) => u.over.appendChild(tooltip)],
          setCursor: [
            (u) => {
              const idx = u.cursor.idx;
              if (idx == null || u.cursor.left < 0) {
                tooltip.hidden = true;
                return;
              }
              const day = days[idx];
              const lines = [text('strong', day)];
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
              const right = u.cursor.left + 12 + tooltip.offsetWidth > u.over.clientWidth;
              tooltip.style.left = `${Math.max(0, right ? u.cursor.left - 12 - tooltip.offsetWidth : u.cursor.left + 12)}px`;
              tooltip.style.top = '8px';
            },
          ],
        },
      },
      [xs, ...order.map((i) => stacked[i])],
      container,
    );
  }

  // ---------------------------------------------------------------- breakdowns

  const SORT_VALUE = {
    name: (r) => [r.app_id, r.function_id || ''].join('\u0000'),
    gpu_seconds: (r) => BigInt(r.gpu_ms),
    amount: (r) => cents(r.amount),
  };

  function breakdownCell(entry, type) {
    const c = entry.by_gpu_type.find((x) => x.gpu_type === type);
    const td = document.createElement('td');
    td.className = 'num';
    td.dataset.gpuType = type;
    if (c) td.append(text('span', c.amount, 'amount'), text('span', `${c.gpu_seconds} GPU-s`, 'quantity'));
    else td.textContent = '—';
    return td;
  }

  function renderBreakdown(tableId, data, noun) {
    const table = byId(tableId);
    const byFunction = data.by === 'function_id';
    const state = (table._sort = table._sort || { key: 'amount', descending: true });
    const head = document.createElement('tr');
    // The entry's totals first, so they stay in view when nine GPU types need a scroll.
    const columns = [
      ['name', byFunction ? 'App / function' : 'App', false],
      ['amount', 'Amount (USD)', true],
      ['gpu_seconds', 'GPU-seconds', true],
      ...data.gpu_types.map((t) => [`type:${t}`, t, true]),
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
        table._sort = { key, descending: state.key === key ? !state.descending : key !== 'name' };
        renderBreakdown(tableId, data, noun);
        // The heading re-rendered: focus goes back to its button, for keyboard users.
        for (const b of table.querySelectorAll('thead button')) if (b.dataset.sortKey === key) b.focus();
      });
      th.appendChild(button);
      head.appendChild(th);
    }
    table.querySelector('thead').replaceChildren(head);
    const valueOf = state.key.startsWith('type:')
      ? (r) => {
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
    const line = (label, entry, className) => {
      const tr = document.createElement('tr');
      if (className) tr.className = className;
      const th = text('th', label);
      th.scope = 'row';
      tr.appendChild(th);
      tr.append(text('td', entry.amount, 'num total'), text('td', entry.gpu_seconds, 'num gpu-seconds'));
      for (const t of data.gpu_types) tr.appendChild(breakdownCell(entry, t));
      return tr;
    };
    table
      .querySelector('tbody')
      .replaceChildren(
        ...(rows.length === 0
          ? [row([[`No usage by ${noun} in this month.`]])]
          : rows.map((r) => line(byFunction ? `${r.app_id} / ${r.function_id}` : r.app_id, r))),
      );
    const foot = [];
    if (data.other)
      foot.push(
        line(`Other (${data.other.count} ${noun}${data.other.count === 1 ? '' : 's'})`, data.other, 'other'),
      );
    if (rows.length > 0) foot.push(line('Total', data.totals, 'sum'));
    table.querySelector('tfoot').replaceChildren(...foot);
  }

  // ---------------------------------------------------------------- invoice

  function renderInvoice(period, invoice, isCurrent) {
    byId('invoice-title').textContent =
      `${isCurrent ? 'Upcoming invoice' : 'Invoice'} — ${monthLabel(period)}`;
    const link = byId('invoice-link');
    const url = invoice && invoice.stripe && invoice.stripe.hosted_invoice_url;
    link.hidden = !url;
    if (url) link.href = url;
    else link.removeAttribute('href');
    byId('invoice-lines').hidden = !invoice;
    if (!invoice) {
      byId('invoice-status').textContent =
        'No invoice for this month yet: it is made once the month has closed.';
      return;
    }
    byId('invoice-status').textContent = isCurrent
      ? 'As it stands now; final once the month has closed.'
      : `${invoice.id} · ${invoice.status}${invoice.finalized_at ? ` · finalized ${invoice.finalized_at.slice(0, 10)}` : ''}${invoice.paid_at ? ` · paid ${invoice.paid_at.slice(0, 10)}` : ''}`;
    byId('invoice-lines')
      .querySelector('tbody')
      .replaceChildren(
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

  function renderInvoiceList(list) {
    byId('invoices')
      .querySelector('tbody')
      .replaceChildren(
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

  // ---------------------------------------------------------------- month picker

  function fillMonths(current, invoices) {
    const select = byId('month');
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

  function pickMonth(period) {
    byId('month').value = period;
    void load();
    byId('dashboard').focus();
  }

  // ---------------------------------------------------------------- loading

  /** The month's usage figures: from its start to its end (this month: to the end of this hour). */
  function span(period, isCurrent) {
    if (isCurrent) return `from=${new Date(monthStart(period)).toISOString()}`;
    return `from=${new Date(monthStart(period)).toISOString()}&to=${new Date(nextMonthStart(period)).toISOString()}`;
  }

  async function load() {
    const mine = ++loadNumber;
    document.body.dataset.state = 'loading';
    byId('status').textContent = 'Loading…';
    byId('dashboard').setAttribute('aria-busy', 'true');
    try {
      // Only a workspace key shows a workspace: an operator or agent key is refused here.
      const me = await call('/v1/me');
      if (me.kind !== 'workspace') {
        signOut('That key was not accepted: use a workspace API key.');
        throw new Error('not a workspace key');
      }
      const current = periodOf(Date.now());
      const invoices = (await call('/v1/invoices')).invoices;
      if (mine !== loadNumber) return;
      fillMonths(current, invoices);
      const period = byId('month').value;
      const isCurrent = period === current;
      byId('status').textContent = `Loading ${monthLabel(period)}…`;
      const q = span(period, isCurrent);
      const [usage, apps, functions, alerts, spend, upcoming] = await Promise.all([
        call(`/v1/usage?${q}&window=day&group_by=gpu_type`),
        call(`/v1/usage/breakdown?${q}&by=app_id&limit=${BREAKDOWN_LIMIT}`),
        call(`/v1/usage/breakdown?${q}&by=function_id&limit=${BREAKDOWN_LIMIT}`),
        call(`/v1/workspaces/${encodeURIComponent(me.workspace_id)}/budget/alerts?period=${period}`),
        isCurrent ? call('/v1/spend/current') : null,
        isCurrent ? call('/v1/invoices/upcoming') : null,
      ]);
      if (mine !== loadNumber) return; // the month changed while this one loaded
      // A past month's month-end invoice (its threshold invoices, if any, are in the list below).
      const invoice = isCurrent
        ? upcoming
        : invoices.find((i) => i.period === period && !i.threshold) ||
          invoices.find((i) => i.period === period) ||
          null;
      shown = { current, period, workspace: me.workspace_id, usage };
      byId('who').textContent = `workspace ${me.workspace_id}${spend ? ` · plan ${spend.plan}` : ''}`;
      if (isCurrent) {
        for (const [id, title] of [
          ['card-spend', 'Spend so far'],
          ['card-credits', 'Credits left'],
        ])
          byId(id).querySelector('h2').textContent = title;
        renderCurrentCards(spend, upcoming);
      } else
        renderPastCards(
          period,
          invoice,
          usage,
          invoices.filter((i) => i.period === period),
        );
      renderBudget(isCurrent ? spend.budget : null, alerts.alerts, isCurrent);
      byId('daily-title').textContent = `Daily usage — ${monthLabel(period)}`;
      byId('download').textContent = `Download ${monthLabel(period)} usage (CSV)`;
      byId('sign-in').hidden = true;
      byId('dashboard').hidden = false;
      byId('sign-out').hidden = false;
      shown.pivot = renderPivot(usage, period);
      renderChart(usage, period, shown.pivot);
      renderBreakdown('by-app', apps, 'app');
      renderBreakdown('by-function', functions, 'function');
      renderInvoice(period, invoice, isCurrent);
      renderInvoiceList(invoices);
      byId('problem').hidden = true;
      byId('status').textContent = '';
      byId('as-of').textContent =
        `Data as of ${new Date().toISOString().slice(11, 19)} UTC; refreshed every minute while this tab is visible.`;
      document.body.dataset.state = 'loaded';
    } catch (err) {
      // A newer load owns the screen, unless this one ended in a sign-out (a refused key).
      if (mine !== loadNumber && sessionStorage.getItem(KEY)) return;
      byId('status').textContent = '';
      if (sessionStorage.getItem(KEY)) {
        // What was on screen stays (with its own "data as of"); the error says what failed.
        byId('error').textContent = `Could not load: ${err.message}`;
        byId('problem').hidden = false;
      }
      document.body.dataset.state = 'error';
    } finally {
      if (mine === loadNumber) byId('dashboard').setAttribute('aria-busy', 'false');
    }
  }

  /** The month's rated usage as CSV, from the workspace-scoped export, saved as a file. */
  async function downloadUsage() {
    if (!shown) return;
    const from = new Date(monthStart(shown.period)).toISOString();
    const to = new Date(nextMonthStart(shown.period)).toISOString();
    const res = await fetch(`/v1/exports/usage?from=${from}&to=${to}&format=csv`, {
      headers: { authorization: `Bearer ${sessionStorage.getItem(KEY)}` },
    });
    if (!res.ok) {
      byId('error').textContent = `Could not download: HTTP ${res.status}`;
      byId('problem').hidden = false;
      return;
    }
    const url = URL.createObjectURL(await res.blob());
    const link = document.createElement('a');
    link.href = url;
    link.download = `usage_${shown.period}_${shown.workspace}.csv`;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  function signOut(message) {
    sessionStorage.removeItem(KEY);
    shown = null;
    loadNumber++;
    if (chart) {
      chart.destroy();
      chart = null;
    }
    byId('dashboard').hidden = true;
    byId('sign-out').hidden = true;
    byId('month-picker').hidden = true;
    byId('month').replaceChildren();
    byId('problem').hidden = true;
    byId('status').textContent = '';
    byId('sign-in').hidden = false;
    byId('who').textContent = '';
    byId('sign-in-error').textContent = message || '';
    delete byId('by-app')._sort;
    delete byId('by-function')._sort;
  }

  function start() {
    byId('sign-in').addEventListener('submit', (event) => {
      event.preventDefault();
      sessionStorage.setItem(KEY, byId('api-key').value.trim());
      byId('api-key').value = '';
      byId('sign-in-error').textContent = '';
      void load();
    });
    byId('sign-out').addEventListener('click', () => signOut());
    byId('download').addEventListener('click', () => void downloadUsage());
    byId('retry').addEventListener('click', () => void load());
    byId('month').addEventListener('change', () => void load());
    for (const input of document.querySelectorAll('input[name="measure"]'))
      input.addEventListener('change', () => {
        measure = input.value;
        if (shown) renderChart(shown.usage, shown.period, shown.pivot);
      });
    let resizing = null;
    window.addEventListener('resize', () => {
      clearTimeout(resizing);
      resizing = setTimeout(() => {
        if (chart) chart.setSize({ width: Math.max(320, byId('daily-chart').clientWidth), height: 240 });
      }, 150);
    });
    if (sessionStorage.getItem(KEY)) void load();
    // Usage stored in the last minutes shows up without a reload: every minute while visible.
    setInterval(() => {
      if (document.visibilityState === 'visible' && sessionStorage.getItem(KEY)) void load();
    }, 60_000);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
