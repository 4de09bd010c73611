import { AllowanceResponse } from './dto/allowance.response';
import { Controller, Get, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ApiError, ApiErrorCode } from '../common/api-error';
import { Allow } from '../common/access';
import { AllowanceService } from './allowance.service';

@ApiTags('budgets')
@ApiBearerAuth()
@Controller('v1/workspaces')
export class AllowanceController {
  constructor(private readonly allowance: AllowanceService) {}

  /** For the control plane, on every container start: may this workspace spend more? From memory. */
  @ApiOkResponse({ type: AllowanceResponse })
  @Get(':id/allowance')
  @Allow('operator', 'agent')
  async get(@Param('id') id: string) {
    const answer = await this.allowance.allowance(id);
    if (!answer) throw new ApiError(ApiErrorCode.NotFound, 'workspace not found');
    return answer;
  }
}
