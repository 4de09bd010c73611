import {
  CreatedWebhookEndpointResponse,
  DeliveriesResponse,
  RetryRequestedResponse,
  RotatedSecretResponse,
  TestMessageResponse,
  WebhookEndpointListResponse,
  WebhookEndpointResponse,
} from './dto/webhook-endpoint.response';
import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';
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
  @ApiCreatedResponse({ type: CreatedWebhookEndpointResponse })
  @Post()
  @HttpCode(201)
  @Allow('operator', 'workspace')
  create(@Body() dto: CreateWebhookEndpointDto, @Req() req: AuthenticatedRequest) {
    return this.endpoints.create(req.principal, dto);
  }

  @ApiOkResponse({ type: WebhookEndpointListResponse })
  @Get()
  @Allow('operator', 'workspace')
  async list(@Query() q: WebhookEndpointListQueryDto, @Req() req: AuthenticatedRequest) {
    return { endpoints: await this.endpoints.list(req.principal, q.workspace_id) };
  }

  @ApiOkResponse({ type: WebhookEndpointResponse })
  @Get(':id')
  @Allow('operator', 'workspace')
  get(@Param('id') id: string, @Req() req: AuthenticatedRequest) {
    return this.endpoints.get(req.principal, id);
  }

  @ApiNoContentResponse({ description: 'deleted' })
  @Delete(':id')
  @HttpCode(204)
  @Allow('operator', 'workspace')
  async remove(@Param('id') id: string, @Req() req: AuthenticatedRequest) {
    await this.endpoints.remove(req.principal, id);
  }

  /** A disabled endpoint enabled again; 200 with the endpoint (already enabled: unchanged). */
  @ApiOkResponse({ type: WebhookEndpointResponse })
  @Post(':id/enable')
  @HttpCode(200)
  @Allow('operator', 'workspace')
  enable(@Param('id') id: string, @Req() req: AuthenticatedRequest) {
    return this.endpoints.enable(req.principal, id);
  }

  @ApiOkResponse({ type: RotatedSecretResponse })
  @Post(':id/rotate-secret')
  @HttpCode(200)
  @Allow('operator', 'workspace')
  rotate(@Param('id') id: string, @Req() req: AuthenticatedRequest) {
    return this.endpoints.rotate(req.principal, id);
  }

  @ApiAcceptedResponse({ type: TestMessageResponse })
  @Post(':id/test')
  @HttpCode(202)
  @Allow('operator', 'workspace')
  test(@Param('id') id: string, @Req() req: AuthenticatedRequest) {
    return this.endpoints.test(req.principal, id);
  }

  @ApiOkResponse({ type: DeliveriesResponse })
  @Get(':id/deliveries')
  @Allow('operator', 'workspace')
  deliveries(@Param('id') id: string, @Req() req: AuthenticatedRequest) {
    return this.endpoints.deliveries(req.principal, id);
  }

  @ApiAcceptedResponse({ type: RetryRequestedResponse })
  @Post(':id/deliveries/:messageId/retry')
  @HttpCode(202)
  @Allow('operator', 'workspace')
  retry(@Param('id') id: string, @Param('messageId') messageId: string, @Req() req: AuthenticatedRequest) {
    return this.endpoints.retry(req.principal, id, messageId);
  }
}
