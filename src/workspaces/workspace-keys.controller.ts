import { CreatedWorkspaceKeyResponse, WorkspaceKeyListResponse } from './dto/workspace.response';
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Req } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';
import { Allow } from '../common/access';
import type { AuthenticatedRequest } from '../auth/auth.guard';
import { CreateWorkspaceKeyDto } from './dto/create-workspace-key.dto';
import { scopeWorkspace } from '../auth/principal';
import { WorkspacesService } from './workspaces.service';

/** Key rotation (issue 10, finding 5): a workspace manages its own keys; the operator any workspace's. */
@ApiTags('workspaces')
@ApiBearerAuth()
@Allow('operator', 'workspace')
@Controller('v1/workspaces/:id/keys')
export class WorkspaceKeysController {
  constructor(private readonly workspaces: WorkspacesService) {}

  /** A new key, shown once; the workspace's other keys keep working until revoked. */
  @ApiCreatedResponse({ type: CreatedWorkspaceKeyResponse })
  @Post()
  @HttpCode(201)
  create(@Param('id') id: string, @Body() dto: CreateWorkspaceKeyDto, @Req() req: AuthenticatedRequest) {
    return this.workspaces.createKey(scopeWorkspace(req.principal, id), dto.name);
  }

  @ApiOkResponse({ type: WorkspaceKeyListResponse })
  @Get()
  list(@Param('id') id: string, @Req() req: AuthenticatedRequest) {
    return this.workspaces.listKeys(scopeWorkspace(req.principal, id));
  }

  @ApiNoContentResponse({ description: 'revoked (or already revoked)' })
  @Delete(':key_id')
  @HttpCode(204)
  async revoke(@Param('id') id: string, @Param('key_id') keyId: string, @Req() req: AuthenticatedRequest) {
    await this.workspaces.revokeKey(scopeWorkspace(req.principal, id), keyId);
  }
}
