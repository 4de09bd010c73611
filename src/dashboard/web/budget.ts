import type { Schemas } from '../../api-client/client';
import { byId, part, text } from './dom';
import { money, usd } from './format';

type Alert = Schemas['BudgetAlertResponse'];

const ALERT_TEXT: Record<string, (a: Alert) => string> = {
  'budget.threshold_reached': (a) => `${a.threshold} % of the budget reached`,
  'budget.exceeded': () => 'Budget exceeded',
  'budget.forecast_exceeded': () => 'Forecast to exceed the budget',
  'budget.cap_reached': () => 'Hard cap reached: new work is refused',
};
const DELIVERY_TEXT: Record<string, string> = {
  succeeded: 'delivered',
  failed: 'retrying',
  gave_up: 'not delivered',
  pending: 'sending',
};

/** The budget card: spend against the limit (this month), and the month's alerts. */
export function renderBudget(
  budget: Schemas['BudgetStatusResponse'] | null,
  alerts: readonly Alert[],
  isCurrent: boolean,
): void {
  const el = byId('card-budget');
  const bar = byId('budget-bar');
  const note = part(el, '.note');
  bar.hidden = !(isCurrent && budget);
  if (isCurrent && budget) {
    const state = budget.exceeded
      ? 'exceeded'
      : budget.forecast_exceeds
        ? 'forecast to exceed'
        : 'within budget';
    part(el, '.value').textContent = `${budget.spent_percent} % of ${money(budget.monthly_limit)}`;
    note.textContent = `${state}; alerts at ${budget.thresholds.map((t) => `${t} %`).join(', ') || 'no thresholds'}${budget.enforce ? '; enforced (a hard cap)' : ''}`;
    // The bar's scale reaches the highest threshold or the spend, at least 100 %.
    const spent = Number(budget.spent_percent);
    const scale = Math.max(100, ...budget.thresholds, Math.min(spent, 200));
    bar.setAttribute('aria-valuemax', String(scale));
    bar.setAttribute('aria-valuenow', String(Math.min(spent, scale)));
    bar.setAttribute('aria-valuetext', `${budget.spent_percent} % of the budget spent`);
    const fill = part(bar, '.fill');
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
    part(el, '.value').textContent = isCurrent ? 'No budget set' : 'Alerts that month';
    note.textContent = isCurrent
      ? 'Set one with PUT /v1/workspaces/{id}/budget to be alerted before you overspend.'
      : alerts.length === 0
        ? 'None.'
        : '';
  }
  byId('budget-alerts').replaceChildren(
    ...alerts.map((a) => {
      const li = document.createElement('li');
      const what = ALERT_TEXT[a.type]?.(a) ?? a.type;
      li.append(
        text('span', `${what} at ${usd(a.spend)} (${a.decided_at.slice(0, 16).replace('T', ' ')} UTC)`),
      );
      if (a.notified.length > 0)
        li.append(
          text(
            'span',
            ` — sent to ${a.notified.map((n) => `${n.url} (${DELIVERY_TEXT[n.status] ?? n.status})`).join(', ')}`,
            'notified',
          ),
        );
      return li;
    }),
  );
}
