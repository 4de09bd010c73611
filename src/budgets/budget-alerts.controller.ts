import { Controller, Get, Param, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Allow } from '../common/access';
import { AuthenticatedRequest } from '../auth/auth.guard';
import { scopeWorkspace } from '../auth/principal';
import { BudgetAlertHistory } from './budget-alert-history.service';
import { BudgetAlertsQueryDto } from './dto/budget-alerts-query.dto';
import { BudgetAlertsResponse } from './dto/budget-alerts.response';

@ApiTags('budgets')
@ApiBearerAuth()
@Controller('v1/workspaces')
export class BudgetAlertsController {
  constructor(private readonly history: BudgetAlertHistory) {}

  /** The alerts a workspace's budget reached in a month, and which of its endpoints were told. */
  @ApiOkResponse({ type: BudgetAlertsResponse })
  @Get(':id/budget/alerts')
  @Allow('operator', 'workspace')
  list(@Param('id') id: string, @Query() q: BudgetAlertsQueryDto, @Req() req: AuthenticatedRequest) {
    return this.history.list(scopeWorkspace(req.principal, id), q.period);
  }
}
