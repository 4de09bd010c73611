import { Module } from '@nestjs/common';
import { InvoicingModule } from '../invoicing/invoicing.module';
import { MeteringModule } from '../metering/metering.module';
import { StripeModule } from '../stripe/stripe.module';
import { WorkspacesModule } from '../workspaces/workspaces.module';
import { ReconciliationController } from './reconciliation.controller';
import { ReconciliationService } from './reconciliation.service';

@Module({
  imports: [MeteringModule, InvoicingModule, StripeModule, WorkspacesModule],
  controllers: [ReconciliationController],
  providers: [ReconciliationService],
})
export class ReconciliationModule {}
