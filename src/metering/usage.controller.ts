import { Controller, Get, Query, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Allow, AuthGuard, AuthenticatedRequest, scopeWorkspace } from '../workspaces/auth.guard';
import { UsageQueryDto } from './dto/usage-query.dto';
import { UsageService } from './usage.service';

@ApiTags('usage')
@ApiBearerAuth()
@UseGuards(AuthGuard)
@Controller('v1/usage')
export class UsageController {
  constructor(private readonly usage: UsageService) {}

  @Get()
  @Allow('workspace', 'operator')
  get(@Query() q: UsageQueryDto, @Req() req: AuthenticatedRequest) {
    return this.usage.usage(scopeWorkspace(req.principal, q.workspace_id), q);
  }
}
