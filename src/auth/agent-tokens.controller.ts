import { AgentTokenListResponse, CreatedAgentTokenResponse } from './dto/agent-token.response';
import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';
import { Allow } from '../common/access';
import { AgentTokensService } from './agent-tokens.service';
import { CreateAgentTokenDto } from './dto/credential.dto';

@ApiTags('agent tokens')
@ApiBearerAuth()
@Allow('operator')
@Controller('v1/agent-tokens')
export class AgentTokensController {
  constructor(private readonly tokens: AgentTokensService) {}

  /** A token for one host (or a rack): shown once in the answer. */
  @ApiCreatedResponse({ type: CreatedAgentTokenResponse })
  @Post()
  @HttpCode(201)
  create(@Body() dto: CreateAgentTokenDto) {
    return this.tokens.create(dto);
  }

  @ApiOkResponse({ type: AgentTokenListResponse })
  @Get()
  list() {
    return this.tokens.list();
  }

  @ApiNoContentResponse({ description: 'revoked (or already revoked)' })
  @Delete(':id')
  @HttpCode(204)
  async revoke(@Param('id') id: string) {
    await this.tokens.revoke(id);
  }
}
