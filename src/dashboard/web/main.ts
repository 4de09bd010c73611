// The customer usage dashboard: TypeScript modules on the typed API client (api-client/,
// generated from the service's OpenAPI document), bundled by esbuild at build time
// (scripts/build-dashboard.mjs) into one script this origin serves; its one library, uPlot,
// is served by this origin too (the page's CSP allows nothing else). It reads the same API a
// customer's own tooling would, with the workspace key the user types in, kept for this tab
// only.
import { allInvoices, type Schemas } from '../../api-client/client';
import { renderBreakdown, resetSorts } from './breakdown';
import { renderBudget } from './budget';
import { renderCurrentCards, renderPastCards, titleCards } from './cards';
import { destroyChart, renderChart, renderPivot, resizeChart } from './daily';
import { byId } from './dom';
import { monthLabel, monthStart, nextMonthStart, periodOf } from './format';
import { fillMonths, renderInvoice, renderInvoiceList } from './invoices';
import { answer, api, KeyRefused, session } from './session';
import { state } from './state';

const BREAKDOWN_LIMIT = 20;
/** The invoice list changes a few times a month: it is read at sign-in, on retry, and at most this often. */
const INVOICES_MAX_AGE_MS = 15 * 60_000;

/** Every invoice of the workspace, as last read, for the month it was read in. */
let invoices: { list: Schemas['InvoiceResponse'][]; current: string; atMs: number } | null = null;

async function invoiceList(current: string, fresh: boolean): Promise<Schemas['InvoiceResponse'][]> {
  if (
    fresh ||
    !invoices ||
    invoices.current !== current ||
    Date.now() - invoices.atMs > INVOICES_MAX_AGE_MS
  ) {
    const list = await allInvoices(api()).catch((e: unknown) => {
      if ((e as { status?: number }).status === 401 || (e as { status?: number }).status === 403)
        throw new KeyRefused('not signed in');
      throw e;
    });
    invoices = { list, current, atMs: Date.now() };
  }
  return invoices.list;
}

/** The month's usage figures: from its start to its end (this month: to the end of this hour). */
function span(period: string, isCurrent: boolean): { from: string; to?: string } {
  const from = new Date(monthStart(period)).toISOString();
  return isCurrent ? { from } : { from, to: new Date(nextMonthStart(period)).toISOString() };
}

function pickMonth(period: string): void {
  byId<HTMLSelectElement>('month').value = period;
  void load();
  byId('dashboard').focus();
}

async function load(options: { freshInvoices?: boolean } = {}): Promise<void> {
  const mine = ++state.loadNumber;
  document.body.dataset.state = 'loading';
  byId('status').textContent = 'Loading…';
  byId('dashboard').setAttribute('aria-busy', 'true');
  try {
    const client = api();
    // Only a workspace key shows a workspace: an operator or agent key is refused here.
    const me = answer(await client.GET('/v1/me'), 'GET /v1/me');
    if (me.kind !== 'workspace' || !me.workspace_id) throw new KeyRefused('not a workspace key');
    const workspace = me.workspace_id;
    const current = periodOf(Date.now());
    const list = await invoiceList(current, options.freshInvoices ?? false);
    if (mine !== state.loadNumber) return;
    fillMonths(current, list);
    const period = byId<HTMLSelectElement>('month').value;
    const isCurrent = period === current;
    byId('status').textContent = `Loading ${monthLabel(period)}…`;
    const q = span(period, isCurrent);
    const [usage, apps, functions, alerts, spend, upcoming] = await Promise.all([
      client
        .GET('/v1/usage', { params: { query: { ...q, window: 'day', group_by: 'gpu_type' } } })
        .then((r) => answer(r, 'GET /v1/usage')),
      client
        .GET('/v1/usage/breakdown', { params: { query: { ...q, by: 'app_id', limit: BREAKDOWN_LIMIT } } })
        .then((r) => answer(r, 'GET /v1/usage/breakdown')),
      client
        .GET('/v1/usage/breakdown', {
          params: { query: { ...q, by: 'function_id', limit: BREAKDOWN_LIMIT } },
        })
        .then((r) => answer(r, 'GET /v1/usage/breakdown')),
      client
        .GET('/v1/workspaces/{id}/budget/alerts', { params: { path: { id: workspace }, query: { period } } })
        .then((r) => answer(r, 'GET /v1/workspaces/{id}/budget/alerts')),
      isCurrent ? client.GET('/v1/spend/current').then((r) => answer(r, 'GET /v1/spend/current')) : null,
      isCurrent
        ? client.GET('/v1/invoices/upcoming').then((r) => answer(r, 'GET /v1/invoices/upcoming'))
        : null,
    ]);
    if (mine !== state.loadNumber) return; // the month changed while this one loaded
    // A past month's month-end invoice (its threshold invoices, if any, are in the list below).
    const monthInvoices = list.filter((i) => i.period === period);
    const invoice = isCurrent
      ? upcoming
      : (monthInvoices.find((i) => !i.threshold) ?? monthInvoices[0] ?? null);
    state.shown = { current, period, workspace, usage };
    byId('who').textContent = `workspace ${workspace}${spend ? ` · plan ${spend.plan}` : ''}`;
    if (spend && upcoming) {
      titleCards([
        ['card-spend', 'Spend so far'],
        ['card-credits', 'Credits left'],
      ]);
      renderCurrentCards(spend, upcoming);
    } else
      renderPastCards(
        period,
        isCurrent ? null : (invoice as Schemas['InvoiceResponse'] | null),
        usage,
        monthInvoices,
      );
    renderBudget(spend ? spend.budget : null, alerts.alerts, isCurrent);
    byId('daily-title').textContent = `Daily usage — ${monthLabel(period)}`;
    byId('download').textContent = `Download ${monthLabel(period)} usage (CSV)`;
    byId('sign-in').hidden = true;
    byId('dashboard').hidden = false;
    byId('sign-out').hidden = false;
    state.shown.pivot = renderPivot(usage, period);
    renderChart(usage, period, state.shown.pivot);
    renderBreakdown('by-app', apps, 'app');
    renderBreakdown('by-function', functions, 'function');
    renderInvoice(period, invoice, isCurrent);
    renderInvoiceList(list, pickMonth);
    byId('problem').hidden = true;
    byId('status').textContent = '';
    byId('as-of').textContent =
      `Data as of ${new Date().toISOString().slice(11, 19)} UTC; refreshed every minute while this tab is visible.`;
    document.body.dataset.state = 'loaded';
  } catch (err) {
    if (err instanceof KeyRefused) signOut('That key was not accepted: use a workspace API key.');
    // A newer load owns the screen, unless this one ended in a sign-out (a refused key).
    if (mine !== state.loadNumber && session.key()) return;
    byId('status').textContent = '';
    if (session.key()) {
      // What was on screen stays (with its own "data as of"); the error says what failed.
      byId('error').textContent = `Could not load: ${(err as Error).message}`;
      byId('problem').hidden = false;
    }
    document.body.dataset.state = 'error';
  } finally {
    if (mine === state.loadNumber) byId('dashboard').setAttribute('aria-busy', 'false');
  }
}

/** The month's rated usage as CSV, from the workspace-scoped export, saved as a file. */
async function downloadUsage(): Promise<void> {
  const shown = state.shown;
  if (!shown) return;
  const from = new Date(monthStart(shown.period)).toISOString();
  const to = new Date(nextMonthStart(shown.period)).toISOString();
  const { data, response } = await api().GET('/v1/exports/usage', {
    params: { query: { from, to, format: 'csv' } },
    parseAs: 'blob',
  });
  if (!response.ok || !data) {
    byId('error').textContent = `Could not download: HTTP ${response.status}`;
    byId('problem').hidden = false;
    return;
  }
  const url = URL.createObjectURL(data);
  const link = document.createElement('a');
  link.href = url;
  link.download = `usage_${shown.period}_${shown.workspace}.csv`;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function signOut(message?: string): void {
  session.forget();
  state.shown = null;
  invoices = null;
  state.loadNumber++;
  destroyChart();
  byId('dashboard').hidden = true;
  byId('sign-out').hidden = true;
  byId('month-picker').hidden = true;
  byId('month').replaceChildren();
  byId('problem').hidden = true;
  byId('status').textContent = '';
  byId('sign-in').hidden = false;
  byId('who').textContent = '';
  byId('sign-in-error').textContent = message ?? '';
  resetSorts();
}

function start(): void {
  byId('sign-in').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = byId<HTMLInputElement>('api-key');
    session.signIn(input.value.trim());
    input.value = '';
    byId('sign-in-error').textContent = '';
    void load({ freshInvoices: true });
  });
  byId('sign-out').addEventListener('click', () => signOut());
  byId('download').addEventListener('click', () => void downloadUsage());
  byId('retry').addEventListener('click', () => void load({ freshInvoices: true }));
  byId('month').addEventListener('change', () => void load());
  for (const input of document.querySelectorAll<HTMLInputElement>('input[name="measure"]'))
    input.addEventListener('change', () => {
      state.measure = input.value === 'gpu_seconds' ? 'gpu_seconds' : 'amount';
      const shown = state.shown;
      if (shown?.pivot) renderChart(shown.usage, shown.period, shown.pivot);
    });
  let resizing: ReturnType<typeof setTimeout> | undefined;
  window.addEventListener('resize', () => {
    clearTimeout(resizing);
    resizing = setTimeout(resizeChart, 150);
  });
  if (session.key()) void load({ freshInvoices: true });
  // Usage stored in the last minutes shows up without a reload: every minute while visible
  // (the invoice list only when it is older than INVOICES_MAX_AGE_MS or the month turned).
  setInterval(() => {
    if (document.visibilityState === 'visible' && session.key()) void load();
  }, 60_000);
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
