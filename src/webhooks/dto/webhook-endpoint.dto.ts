import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
} from 'class-validator';
import { WORKSPACE_ID_PATTERN } from '../../common/ids';
import { WEBHOOK_EVENT_TYPES, WebhookEventType } from '../webhook-events';

const SUBSCRIBABLE = WEBHOOK_EVENT_TYPES.filter((t) => t !== 'webhook.test');

export class CreateWebhookEndpointDto {
  @ApiProperty({ example: 'https://hooks.example.com/gpumeter' })
  @IsString({ message: 'url must be a string' })
  @MaxLength(2048)
  url!: string;

  @ApiProperty({ example: ['budget.exceeded', 'invoice.finalized'], enum: SUBSCRIBABLE, isArray: true })
  @IsArray({ message: 'events must be an array of event types' })
  @ArrayMinSize(1, { message: 'events must name at least one event type' })
  @ArrayMaxSize(SUBSCRIBABLE.length)
  @IsIn(SUBSCRIBABLE, { each: true, message: `events: each must be one of ${SUBSCRIBABLE.join(', ')}` })
  events!: WebhookEventType[];

  @ApiPropertyOptional({ example: 'control plane: stop containers at the cap' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  description?: string;

  @ApiPropertyOptional({
    description:
      'operator only: the workspace the endpoint belongs to; absent, an operator endpoint that receives every workspace’s events',
  })
  @IsOptional()
  @Matches(WORKSPACE_ID_PATTERN, { message: 'workspace_id must match ^[a-z0-9][a-z0-9_-]{0,63}$' })
  workspace_id?: string;
}

export class WebhookEndpointListQueryDto {
  @ApiPropertyOptional({ description: 'operator only: one workspace’s endpoints' })
  @IsOptional()
  @Matches(WORKSPACE_ID_PATTERN, { message: 'workspace_id must match ^[a-z0-9][a-z0-9_-]{0,63}$' })
  workspace_id?: string;
}
