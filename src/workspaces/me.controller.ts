import { MeResponse } from './dto/workspace.response';
import { Controller, Get, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Allow } from '../common/access';
import { AuthenticatedRequest } from '../auth/auth.guard';

/** Who a key is (extension): lets a client such as the dashboard tell a workspace key from others. */
@ApiTags('workspaces')
@ApiBearerAuth()
@Controller('v1/me')
export class MeController {
  @ApiOkResponse({ type: MeResponse })
  @Get()
  @Allow('operator', 'workspace', 'agent')
  me(@Req() req: AuthenticatedRequest) {
    const p = req.principal;
    return p.kind === 'workspace' ? { kind: p.kind, workspace_id: p.workspaceId } : { kind: p.kind };
  }
}
