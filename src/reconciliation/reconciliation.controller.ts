import { ReconciliationResponse } from './dto/reconciliation.response';
import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { BillingPeriod } from '../invoicing/billing-period';
import { Allow } from '../common/access';
import { ReconciliationQueryDto } from './dto/reconciliation-query.dto';
import { ReconciliationService } from './reconciliation.service';

@ApiTags('reconciliation')
@ApiBearerAuth()
@Controller('v1/reconciliation')
export class ReconciliationController {
  constructor(private readonly reconciliation: ReconciliationService) {}

  /** Events vs ClickHouse vs invoices vs Stripe for a month, with every difference. Operator only. */
  @ApiOkResponse({ type: ReconciliationResponse })
  @Get()
  @Allow('operator')
  reconcile(@Query() q: ReconciliationQueryDto) {
    return this.reconciliation.reconcile(BillingPeriod.parse(q.period)!, { stripe: q.stripe === 'true' });
  }
}
