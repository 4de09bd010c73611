import { InvoiceListResponse, InvoiceResponse, UpcomingInvoiceResponse } from './dto/invoice.response';
import { InvoiceRunResponse } from './dto/invoice-run.response';
import { CurrentSpendResponse } from './dto/spend.response';
import { Body, Controller, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ApiError, ApiErrorCode } from '../common/api-error';
import { Allow } from '../common/access';
import { AuthenticatedRequest } from '../auth/auth.guard';
import { scopeWorkspace } from '../auth/principal';
import { BillingPeriod } from './billing-period';
import { InvoiceListQueryDto, InvoiceRunRequestDto } from './dto/invoice-run.dto';
import { InvoiceRunService } from './invoice-run.service';
import { InvoiceViewsService } from './invoice-views.service';

@ApiTags('invoices')
@ApiBearerAuth()
@Controller('v1')
export class InvoicesController {
  constructor(
    private readonly views: InvoiceViewsService,
    private readonly runs: InvoiceRunService,
  ) {}

  /** A workspace sees its own invoices; the operator sees all (or one workspace's). */
  @ApiOkResponse({ type: InvoiceListResponse })
  @Get('invoices')
  @Allow('workspace', 'operator')
  async list(@Query() q: InvoiceListQueryDto, @Req() req: AuthenticatedRequest) {
    const workspaceId =
      req.principal.kind === 'workspace' ? scopeWorkspace(req.principal, q.workspace_id) : q.workspace_id;
    return this.views.list({
      workspaceId,
      period: q.period,
      limit: q.limit,
      startingAfter: q.starting_after,
    });
  }

  @ApiOkResponse({ type: UpcomingInvoiceResponse })
  @Get('invoices/upcoming')
  @Allow('workspace', 'operator')
  upcoming(@Query('workspace_id') workspaceId: string | undefined, @Req() req: AuthenticatedRequest) {
    return this.views.upcoming(scopeWorkspace(req.principal, workspaceId));
  }

  @ApiOkResponse({ type: InvoiceResponse })
  @Get('invoices/:id')
  @Allow('workspace', 'operator')
  get(@Param('id') id: string, @Req() req: AuthenticatedRequest) {
    return this.views.get(id, req.principal.kind === 'workspace' ? req.principal.workspaceId : undefined);
  }

  @ApiOkResponse({ type: CurrentSpendResponse })
  @Get('spend/current')
  @Allow('workspace', 'operator')
  spend(@Query('workspace_id') workspaceId: string | undefined, @Req() req: AuthenticatedRequest) {
    return this.views.currentSpend(scopeWorkspace(req.principal, workspaceId));
  }

  /** Starts a run for the period (or returns the one already running here); safe to repeat. */
  @ApiAcceptedResponse({ type: InvoiceRunResponse })
  @Post('invoice-runs')
  @HttpCode(202)
  @Allow('operator')
  startRun(@Body() dto: InvoiceRunRequestDto) {
    const period = BillingPeriod.parse(dto.period)!;
    const { state, done } = this.runs.start(period, 'api', dto.mode);
    done.catch(() => undefined);
    return state;
  }

  @ApiOkResponse({ type: InvoiceRunResponse })
  @Get('invoice-runs/:id')
  @Allow('operator')
  async getRun(@Param('id') id: string) {
    const run = await this.runs.get(id);
    if (!run) throw new ApiError(ApiErrorCode.NotFound, 'invoice run not found');
    return run;
  }
}
