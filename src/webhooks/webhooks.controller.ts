import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Allow } from '../common/access';
import { AuthenticatedRequest } from '../auth/auth.guard';
import { CreateWebhookEndpointDto, WebhookEndpointListQueryDto } from './dto/webhook-endpoint.dto';
import { WebhookEndpointsService } from './webhook-endpoints.service';

@ApiTags('webhooks')
@ApiBearerAuth()
@Controller('v1/webhook-endpoints')
export class WebhooksController {
  constructor(private readonly endpoints: WebhookEndpointsService) {}

  /** 201 with the signing secret, shown this once. */
  @Post()
  @HttpCode(201)
  @Allow('operator', 'workspace')
  create(@Body() dto: CreateWebhookEndpointDto, @Req() req: AuthenticatedRequest) {
    return this.endpoints.create(req.principal, dto);
  }

  @Get()
  @Allow('operator', 'workspace')
  async list(@Query() q: WebhookEndpointListQueryDto, @Req() req: AuthenticatedRequest) {
    return { endpoints: await this.endpoints.list(req.principal, q.workspace_id) };
  }

  @Get(':id')
  @Allow('operator', 'workspace')
  get(@Param('id') id: string, @Req() req: AuthenticatedRequest) {
    return this.endpoints.get(req.principal, id);
  }

  @Delete(':id')
  @HttpCode(204)
  @Allow('operator', 'workspace')
  async remove(@Param('id') id: string, @Req() req: AuthenticatedRequest) {
    await this.endpoints.remove(req.principal, id);
  }

  @Post(':id/rotate-secret')
  @HttpCode(200)
  @Allow('operator', 'workspace')
  rotate(@Param('id') id: string, @Req() req: AuthenticatedRequest) {
    return this.endpoints.rotate(req.principal, id);
  }

  @Post(':id/test')
  @HttpCode(202)
  @Allow('operator', 'workspace')
  test(@Param('id') id: string, @Req() req: AuthenticatedRequest) {
    return this.endpoints.test(req.principal, id);
  }

  @Get(':id/deliveries')
  @Allow('operator', 'workspace')
  deliveries(@Param('id') id: string, @Req() req: AuthenticatedRequest) {
    return this.endpoints.deliveries(req.principal, id);
  }

  @Post(':id/deliveries/:messageId/retry')
  @HttpCode(202)
  @Allow('operator', 'workspace')
  retry(@Param('id') id: string, @Param('messageId') messageId: string, @Req() req: AuthenticatedRequest) {
    return this.endpoints.retry(req.principal, id, messageId);
  }
}
