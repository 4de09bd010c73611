import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Allow } from '../common/access';
import { BillingPeriod } from '../invoicing/billing-period';
import { MarginQueryDto } from './dto/margin-query.dto';
import { MarginReportResponse } from './dto/margin.response';
import { DEFAULT_MARGIN_GROUP_BY } from './margin';
import { MarginReportService } from './margin-report.service';

@ApiTags('reports')
@ApiBearerAuth()
@Controller('v1/reports')
export class ReportsController {
  constructor(private readonly margins: MarginReportService) {}

  /** Revenue, cost and margin of a month by provider, GPU type and region (finance). */
  @ApiOkResponse({ type: MarginReportResponse })
  @Get('margin')
  @Allow('operator')
  margin(@Query() q: MarginQueryDto) {
    return this.margins.report(BillingPeriod.parse(q.period)!, q.group_by ?? DEFAULT_MARGIN_GROUP_BY);
  }
}
