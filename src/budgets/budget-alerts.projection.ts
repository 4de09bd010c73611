import { Injectable, OnModuleInit } from '@nestjs/common';
import { MONEY_PATTERN } from '../catalog/patterns';
import { isPeriod } from '../invoicing/invoice';
import {
  BillingEvent,
  BillingEventEnvelope,
  BillingEventProjection,
} from '../platform/billing-events/billing-event';
import { checkFields, matching, text } from '../platform/billing-events/billing-event-checks';
import { BillingEventsService } from '../platform/billing-events/billing-events.service';
import { BUDGET_ALERT_TYPES, BudgetAlertType, KIND_OF } from './budget-alert-events';
import { BudgetAlertsRepository } from './budget-alerts.repository';

const DECIMAL = /^-?\d{1,15}(\.\d{1,15})?$/;

/** Projects budget alerts into `budget_alerts`. Idempotent (rows keyed by event id). */
@Injectable()
export class BudgetAlertsProjection implements BillingEventProjection<BudgetAlertType>, OnModuleInit {
  readonly handles = BUDGET_ALERT_TYPES;

  constructor(
    private readonly alerts: BudgetAlertsRepository,
    private readonly billingEvents: BillingEventsService,
  ) {}

  onModuleInit(): void {
    this.billingEvents.register(this);
  }

  refuse(event: BillingEventEnvelope<BudgetAlertType>): string | null {
    return checkFields(event.data, {
      period: isPeriod,
      monthly_limit: matching(MONEY_PATTERN),
      currency: text(8),
      threshold: (v) => v === null || (Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 1000),
      spend: matching(DECIMAL),
      forecast: matching(DECIMAL),
      enforced: (v) => typeof v === 'boolean',
    });
  }

  async apply(event: BillingEvent<BudgetAlertType>): Promise<void> {
    await this.applyBatch([event]);
  }

  async applyBatch(events: BillingEvent<BudgetAlertType>[]): Promise<void> {
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
