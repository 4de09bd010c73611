import { Body, Controller, Delete, Get, HttpCode, Param, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { AuthenticatedRequest } from '../auth/auth.guard';
import { scopeWorkspace } from '../auth/principal';
import { Allow } from '../common/access';
import { CreditGrantsService } from './credit-grants.service';
import { CreateCreditGrantDto, VoidCreditGrantDto } from './dto/credit-grant.dto';
import {
  CreditGrantListResponse,
  CreditGrantResponse,
  VoidedCreditGrantResponse,
} from './dto/credit-grant.response';

@ApiTags('credit grants')
@ApiBearerAuth()
@Controller('v1/workspaces')
export class CreditGrantsController {
  constructor(private readonly grants: CreditGrantsService) {}

  /** The operator grants credits to a workspace (promotional, prepaid or goodwill). */
  @ApiCreatedResponse({ type: CreditGrantResponse })
  @Post(':id/credit-grants')
  @Allow('operator')
  create(@Param('id') id: string, @Body() dto: CreateCreditGrantDto) {
    return this.grants.create(id, dto);
  }

  /** A workspace's grants and balance: that workspace, or the operator. */
  @ApiOkResponse({ type: CreditGrantListResponse })
  @Get(':id/credit-grants')
  @Allow('operator', 'workspace')
  list(@Param('id') id: string, @Req() req: AuthenticatedRequest) {
    return this.grants.list(scopeWorkspace(req.principal, id));
  }

  /** Voids what is left of a grant. */
  @ApiOkResponse({ type: VoidedCreditGrantResponse })
  @Delete(':id/credit-grants/:grantId')
  @HttpCode(200)
  @Allow('operator')
  void(@Param('id') id: string, @Param('grantId') grantId: string, @Body() dto: VoidCreditGrantDto) {
    return this.grants.void(id, grantId, dto?.reason ?? '');
  }
}
