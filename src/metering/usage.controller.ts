import { UsageBreakdownResponse, UsageResponse } from './dto/usage.response';
import { UsageBreakdownQueryDto } from './dto/usage-breakdown-query.dto';
import { Controller, Get, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Allow } from '../common/access';
import { AuthenticatedRequest } from '../auth/auth.guard';
import { scopeWorkspace } from '../auth/principal';
import { UsageQueryDto } from './dto/usage-query.dto';
import { UsageService } from './usage.service';

@ApiTags('usage')
@ApiBearerAuth()
@Controller('v1/usage')
export class UsageController {
  constructor(private readonly usage: UsageService) {}

  @ApiOkResponse({ type: UsageResponse })
  @Get()
  @Allow('workspace', 'operator')
  get(@Query() q: UsageQueryDto, @Req() req: AuthenticatedRequest) {
    return this.usage.usage(scopeWorkspace(req.principal, q.workspace_id), q);
  }

  /** The top apps or functions by amount, then "other", per GPU type (the dashboard's breakdowns). */
  @ApiOkResponse({ type: UsageBreakdownResponse })
  @Get('breakdown')
  @Allow('workspace', 'operator')
  breakdown(@Query() q: UsageBreakdownQueryDto, @Req() req: AuthenticatedRequest) {
    return this.usage.breakdown(scopeWorkspace(req.principal, q.workspace_id), q);
  }
}
