import { Body, Controller, Get, HttpCode, Param, Post, Put, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Allow } from '../common/access';
import { AuthenticatedRequest } from '../auth/auth.guard';
import { scopeWorkspace } from '../auth/principal';
import { ChangePlanDto } from './dto/change-plan.dto';
import { CreateWorkspaceDto } from './dto/create-workspace.dto';
import { SetBudgetDto } from './dto/set-budget.dto';
import { WorkspacesService } from './workspaces.service';

@ApiTags('workspaces')
@ApiBearerAuth()
@Controller('v1/workspaces')
export class WorkspacesController {
  constructor(private readonly workspaces: WorkspacesService) {}

  @Post()
  @HttpCode(201)
  @Allow('operator')
  create(@Body() dto: CreateWorkspaceDto) {
    return this.workspaces.create(dto);
  }

  @Get(':id')
  @Allow('operator', 'workspace')
  get(@Param('id') id: string, @Req() req: AuthenticatedRequest) {
    return this.workspaces.get(scopeWorkspace(req.principal, id));
  }

  /** A workspace sets its own budget; the operator any workspace's. */
  @Put(':id/budget')
  @Allow('operator', 'workspace')
  setBudget(@Param('id') id: string, @Body() dto: SetBudgetDto, @Req() req: AuthenticatedRequest) {
    return this.workspaces.setBudget(scopeWorkspace(req.principal, id), dto);
  }

  @Put(':id/plan')
  @Allow('operator')
  changePlan(@Param('id') id: string, @Body() dto: ChangePlanDto) {
    return this.workspaces.changePlan(id, dto);
  }
}
