// The customer usage dashboard: plain script, no build step, no third-party code. It reads
// the same API a customer's own tooling would (spend, usage, invoices) with the workspace
// key the user types in, kept for this tab only (sessionStorage). Values from the API are
// only ever set as text (textContent), never parsed as HTML: app and function ids are
// customer-supplied.
'use strict';

(function () {
  const KEY = 'gpumeter.workspace_key';
  const byId = (id) => document.getElementById(id);

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

  function fill(tableId, rows) {
    const body = byId(tableId).querySelector('tbody');
    body.replaceChildren(...rows);
  }

  const money = (m) => `${m.amount} ${m.currency.toUpperCase()}`;

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

  /** The month shown (YYYY-MM) and its workspace, for the download's span and file name. */
  let shown = null;

  /**
   * The month's rated usage as CSV, from the workspace-scoped export (the same records the
   * operator's finance export holds for this workspace), saved as a file.
   */
  async function downloadUsage() {
    if (!shown) return;
    const [year, month] = shown.period.split('-').map(Number);
    const from = new Date(Date.UTC(year, month - 1, 1)).toISOString();
    const to = new Date(Date.UTC(year, month, 1)).toISOString();
    const res = await fetch(`/v1/exports/usage?from=${from}&to=${to}&format=csv`, {
      headers: { authorization: `Bearer ${sessionStorage.getItem(KEY)}` },
    });
    if (!res.ok) {
      byId('error').textContent = `Could not download: HTTP ${res.status}`;
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

  function renderSpend(spend) {
    shown = { period: spend.period, workspace: spend.workspace_id };
    byId('who').textContent = `workspace ${spend.workspace_id} · plan ${spend.plan} · ${spend.period}`;
    const entries = [
      ['Usage so far', money(spend.usage)],
      ['Credits applied', money(spend.credits_applied)],
      ['Plan fee', money(spend.plan_fee)],
      ['Adjustments for earlier months', money(spend.adjustments)],
      ['Spend so far', money(spend.spend_so_far)],
      ['Forecast for the month', money(spend.forecast.total)],
    ];
    if (spend.budget) {
      const b = spend.budget;
      const reached = b.thresholds_reached.length
        ? `; alerts reached: ${b.thresholds_reached.join(', ')} %`
        : '';
      const state = b.exceeded ? ' — exceeded' : b.forecast_exceeds ? ' — forecast to exceed' : '';
      entries.push(['Budget', `${b.spent_percent} % of ${money(b.monthly_limit)}${reached}${state}`]);
    }
    byId('spend').replaceChildren(...entries.flatMap(([k, v]) => [text('dt', k), text('dd', v)]));
  }

  function renderDaily(usage) {
    // Each day's amount in cents, summed from the rows' decimal strings (amounts have exactly
    // two decimals: their cents are the digits, read exactly) — the pivot's totals and the bars.
    const perDay = new Map();
    for (const r of usage.rows) {
      const day = r.window_start.slice(0, 10);
      perDay.set(day, (perDay.get(day) || 0) + Number(r.amount.replace('.', '')));
    }
    // A day × GPU type pivot: one row a day, one column a GPU type, each cell the amount and
    // the GPU-seconds of that pair, and the day's total.
    const types = [...new Set(usage.rows.map((r) => r.gpu_type))].sort();
    const cells = new Map();
    for (const r of usage.rows) cells.set(`${r.window_start.slice(0, 10)} ${r.gpu_type}`, r);
    const days = [...perDay.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
    const head = document.createElement('tr');
    head.append(text('th', 'Day (UTC)'), ...types.map((t) => text('th', t, 'num')), text('th', 'Total', 'num'));
    byId('daily').querySelector('thead').replaceChildren(head);
    fill(
      'daily',
      days.map(([day, cents]) => {
        const tr = document.createElement('tr');
        tr.appendChild(text('th', day));
        for (const t of types) {
          const r = cells.get(`${day} ${t}`);
          const td = document.createElement('td');
          td.className = 'num';
          td.dataset.gpuType = t;
          if (r) td.append(text('span', r.amount, 'amount'), text('span', `${r.gpu_seconds} GPU-s`, 'quantity'));
          else td.textContent = '—';
          tr.appendChild(td);
        }
        tr.appendChild(text('td', (cents / 100).toFixed(2), 'num total'));
        return tr;
      }),
    );
    byId('daily-empty').hidden = usage.rows.length > 0;
    // One bar per day: the day's amount.
    const svg = byId('daily-chart');
    const max = Math.max(1, ...days.map(([, c]) => c));
    const width = 100 / Math.max(1, days.length);
    svg.setAttribute('viewBox', '0 0 100 100');
    svg.setAttribute('preserveAspectRatio', 'none');
    svg.replaceChildren(
      ...days.map(([day, cents], i) => {
        const bar = document.createElementNS('http://www.w3.org/2000/svg', 'rect');
        const h = (cents / max) * 100;
        bar.setAttribute('x', String(i * width + width * 0.1));
        bar.setAttribute('width', String(width * 0.8));
        bar.setAttribute('y', String(100 - h));
        bar.setAttribute('height', String(h));
        bar.appendChild(document.createElementNS('http://www.w3.org/2000/svg', 'title')).textContent =
          `${day}: ${(cents / 100).toFixed(2)}`;
        return bar;
      }),
    );
  }

  function renderUpcoming(upcoming) {
    fill(
      'upcoming',
      upcoming.lines.map((l) =>
        row([
          [l.description],
          [`${l.quantity} ${l.unit}`, true],
          [l.unit_price === null ? 'several' : l.unit_price, true],
          [l.amount, true],
        ]),
      ),
    );
    byId('upcoming-total').textContent = `${upcoming.total} ${upcoming.currency.toUpperCase()}`;
  }

  function renderInvoices(list) {
    fill(
      'invoices',
      list.invoices.map((inv) =>
        row([[inv.period], [inv.id], [inv.status], [`${inv.total} ${inv.currency.toUpperCase()}`, true]]),
      ),
    );
  }

  async function load() {
    byId('error').textContent = '';
    try {
      // Only a workspace key shows a workspace: an operator or agent key is refused here.
      const me = await call('/v1/me');
      if (me.kind !== 'workspace') {
        signOut('That key was not accepted: use a workspace API key.');
        throw new Error('not a workspace key');
      }
      const [spend, usage, upcoming, invoices] = await Promise.all([
        call('/v1/spend/current'),
        call('/v1/usage?window=day&group_by=gpu_type'),
        call('/v1/invoices/upcoming'),
        call('/v1/invoices'),
      ]);
      renderSpend(spend);
      renderDaily(usage);
      renderUpcoming(upcoming);
      renderInvoices(invoices);
      byId('sign-in').hidden = true;
      byId('dashboard').hidden = false;
      byId('sign-out').hidden = false;
      byId('as-of').textContent = `Data as of ${new Date().toISOString().slice(11, 19)} UTC; refreshed every minute while this tab is visible.`;
      document.body.dataset.state = 'loaded';
    } catch (err) {
      if (sessionStorage.getItem(KEY)) byId('error').textContent = `Could not load: ${err.message}`;
      document.body.dataset.state = 'error';
    }
  }

  function signOut(message) {
    sessionStorage.removeItem(KEY);
    shown = null;
    byId('dashboard').hidden = true;
    byId('sign-out').hidden = true;
    byId('sign-in').hidden = false;
    byId('who').textContent = '';
    byId('sign-in-error').textContent = message || '';
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
    if (sessionStorage.getItem(KEY)) void load();
    // Usage stored in the last minutes shows up without a reload: every minute while visible.
    setInterval(() => {
      if (document.visibilityState === 'visible' && sessionStorage.getItem(KEY)) void load();
    }, 60_000);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
