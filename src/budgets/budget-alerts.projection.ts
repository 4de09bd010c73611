import { Injectable } from '@nestjs/common';
import { BillingEvent, HandledBy, ProjectionOf } from '../platform/billing-events/billing-event';
import { BUDGET_ALERT_TYPES, KIND_OF } from './budget-alert-events';
import { BudgetAlertsRepository } from './budget-alerts.repository';

const Base = ProjectionOf(...BUDGET_ALERT_TYPES);
type Handled = HandledBy<typeof Base>;

/** Projects budget alerts into `budget_alerts`. Idempotent (rows keyed by event id). */
@Injectable()
export class BudgetAlertsProjection extends Base {
  constructor(private readonly alerts: BudgetAlertsRepository) {
    super();
  }

  async apply(events: readonly BillingEvent<Handled>[]): Promise<void> {
    await this.alerts.append(
      events.map((e) => {
        const d = e.data;
        return {
          event_id: e.id,
          workspace_id: e.subject,
          period: d.period,
          monthly_limit: d.monthly_limit,
          kind: KIND_OF[e.type],
          threshold: d.threshold ?? 0,
          spend: d.spend,
          decided_at_ms: Date.parse(e.time),
        };
      }),
    );
  }
}
