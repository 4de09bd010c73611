import { Module } from '@nestjs/common';
import { provideBillingEvents } from '../platform/billing-events/provide-billing-events';
import { BUDGET_ALERT_EVENTS } from './budget-alert-events';
import { InvoicingModule } from '../invoicing/invoicing.module';
import { WorkspacesModule } from '../workspaces/workspaces.module';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { AllowanceController } from './allowance.controller';
import { BudgetAlertHistory } from './budget-alert-history.service';
import { BudgetAlertsController } from './budget-alerts.controller';
import { AllowanceService } from './allowance.service';
import { BudgetAlertEvaluator } from './budget-alert-evaluator.service';
import { BudgetAlertsProjection } from './budget-alerts.projection';
import { BudgetAlertsRepository } from './budget-alerts.repository';

/** Budget alerts decided as usage lands, and the hard-cap allowance. */
@Module({
  imports: [WorkspacesModule, InvoicingModule, WebhooksModule],
  controllers: [AllowanceController, BudgetAlertsController],
  providers: [
    BudgetAlertHistory,
    BudgetAlertsRepository,
    BudgetAlertsProjection,
    provideBillingEvents(BUDGET_ALERT_EVENTS),
    BudgetAlertEvaluator,
    AllowanceService,
  ],
  exports: [BudgetAlertEvaluator, AllowanceService],
})
export class BudgetsModule {}
