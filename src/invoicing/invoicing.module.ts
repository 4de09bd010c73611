import { Module } from '@nestjs/common';
import { provideBillingEvents } from '../platform/billing-events/provide-billing-events';
import { CREDIT_GRANT_EVENTS } from './credit-grant-events';
import { INVOICE_EVENTS } from './invoice-events';
import { CatalogModule } from '../catalog/catalog.module';
import { MeteringModule } from '../metering/metering.module';
import { StripeModule } from '../stripe/stripe.module';
import { WorkspacesModule } from '../workspaces/workspaces.module';
import { ClosedPeriodGuard } from './closed-period-guard';
import { CreditGrantProjection } from './credit-grant.projection';
import { CreditGrantsController } from './credit-grants.controller';
import { CreditGrantsRepository } from './credit-grants.repository';
import { CreditGrantsService } from './credit-grants.service';
import { InvoiceCalculator } from './invoice-calculator.service';
import { InvoiceRunService } from './invoice-run.service';
import { InvoiceRunLog } from './invoice-run-log.service';
import { InvoicePushing } from './invoice-pushing.service';
import { MonthEndInvoicing } from './month-end-invoicing.service';
import { PeriodInputs } from './period-inputs';
import { ThresholdInvoiceCalculator } from './threshold-invoice-calculator.service';
import { ThresholdInvoicing } from './threshold-invoicing.service';
import { InvoiceScheduler } from './invoice-scheduler.service';
import { InvoiceViewsService } from './invoice-views.service';
import { InvoiceProjection } from './invoice.projection';
import { InvoicesController } from './invoices.controller';
import { InvoicesRepository } from './invoices.repository';
import { LineTracing } from './line-tracing.service';

@Module({
  imports: [CatalogModule, MeteringModule, WorkspacesModule, StripeModule],
  controllers: [InvoicesController, CreditGrantsController],
  providers: [
    InvoicesRepository,
    InvoiceProjection,
    provideBillingEvents(INVOICE_EVENTS),
    provideBillingEvents(CREDIT_GRANT_EVENTS),
    PeriodInputs,
    InvoiceCalculator,
    ThresholdInvoiceCalculator,
    InvoiceRunLog,
    MonthEndInvoicing,
    ThresholdInvoicing,
    InvoicePushing,
    InvoiceRunService,
    InvoiceScheduler,
    InvoiceViewsService,
    ClosedPeriodGuard,
    CreditGrantsRepository,
    CreditGrantProjection,
    CreditGrantsService,
    LineTracing,
  ],
  exports: [
    InvoiceRunService,
    InvoiceScheduler,
    InvoiceCalculator,
    ThresholdInvoiceCalculator,
    InvoicesRepository,
    InvoiceViewsService,
    LineTracing,
  ],
})
export class InvoicingModule {}
