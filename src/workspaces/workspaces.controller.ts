import {
  BillingThresholdResponse,
  BudgetSetResponse,
  CreatedWorkspaceResponse,
  PlanChangedResponse,
  WorkspaceResponse,
} from './dto/workspace.response';
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Allow } from '../common/access';
import { AuthenticatedRequest } from '../auth/auth.guard';
import { scopeWorkspace } from '../auth/principal';
import { ChangePlanDto } from './dto/change-plan.dto';
import { CreateWorkspaceDto } from './dto/create-workspace.dto';
import { SetBudgetDto } from './dto/set-budget.dto';
import { SetBillingThresholdDto } from './dto/set-billing-threshold.dto';
import { WorkspacesService } from './workspaces.service';

@ApiTags('workspaces')
@ApiBearerAuth()
@Controller('v1/workspaces')
export class WorkspacesController {
  constructor(private readonly workspaces: WorkspacesService) {}

  @ApiCreatedResponse({ type: CreatedWorkspaceResponse })
  @Post()
  @HttpCode(201)
  @Allow('operator')
  create(@Body() dto: CreateWorkspaceDto) {
    return this.workspaces.create(dto);
  }

  @ApiOkResponse({ type: WorkspaceResponse })
  @Get(':id')
  @Allow('operator', 'workspace')
  get(@Param('id') id: string, @Req() req: AuthenticatedRequest) {
    return this.workspaces.get(scopeWorkspace(req.principal, id));
  }

  /** A workspace sets its own budget; the operator any workspace's. */
  @ApiOkResponse({ type: BudgetSetResponse })
  @Put(':id/budget')
  @Allow('operator', 'workspace')
  setBudget(@Param('id') id: string, @Body() dto: SetBudgetDto, @Req() req: AuthenticatedRequest) {
    return this.workspaces.setBudget(scopeWorkspace(req.principal, id), dto);
  }

  /** The threshold the open month's threshold invoices are drawn at (src/invoicing/README.md). */
  @ApiOkResponse({ type: BillingThresholdResponse })
  @Get(':id/billing-threshold')
  @Allow('operator', 'workspace')
  billingThreshold(@Param('id') id: string, @Req() req: AuthenticatedRequest) {
    return this.workspaces.billingThreshold(scopeWorkspace(req.principal, id));
  }

  /** The operator sets a workspace's own threshold (null: none), overriding its plan's. */
  @ApiOkResponse({ type: BillingThresholdResponse })
  @Put(':id/billing-threshold')
  @Allow('operator')
  setBillingThreshold(@Param('id') id: string, @Body() dto: SetBillingThresholdDto) {
    return this.workspaces.setBillingThreshold(id, dto);
  }

  /** Back to the plan's threshold. */
  @ApiOkResponse({ type: BillingThresholdResponse })
  @Delete(':id/billing-threshold')
  @Allow('operator')
  followPlanThreshold(@Param('id') id: string) {
    return this.workspaces.setBillingThreshold(id, { followPlan: true });
  }

  @ApiOkResponse({ type: PlanChangedResponse })
  @Put(':id/plan')
  @Allow('operator')
  changePlan(@Param('id') id: string, @Body() dto: ChangePlanDto) {
    return this.workspaces.changePlan(id, dto);
  }
}
