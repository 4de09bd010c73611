import { Clock } from '../platform/clock';
import { Body, Controller, HttpCode, Post, type RawBodyRequest, Req, Res } from '@nestjs/common';
import type { AuthenticatedRequest } from '../auth/auth.guard';
import { ApiAcceptedResponse, ApiBearerAuth, ApiBody, ApiTags } from '@nestjs/swagger';
import { IngestResponse } from './dto/ingest.response';
import type { Response } from 'express';
import { ApiError, ApiErrorCode } from '../common/api-error';
import { Allow } from '../common/access';
import { IngestionService, MAX_EVENTS_PER_REQUEST } from './ingestion.service';
import { UsageEventDto } from './usage-event/usage-event.dto';
import { topLevelJsonTexts } from '../platform/json/untrusted-json';

@ApiTags('ingestion')
@ApiBearerAuth()
@Controller('v1/events')
export class IngestionController {
  constructor(
    private readonly ingestion: IngestionService,
    private readonly clock: Clock,
  ) {}

  /**
   * One event, a JSON array, or application/cloudevents-batch+json; at most 1000 events and
   * 1 MiB. 202 once the accepted events are acknowledged by Kafka; 400 when none is valid.
   */
  @Post()
  @HttpCode(202)
  @Allow('agent')
  @ApiBody({ type: [UsageEventDto] })
  @ApiAcceptedResponse({
    type: IngestResponse,
    description: 'the accepted events are durable in Kafka; each rejected one is named with its fields',
  })
  async ingest(
    @Body() body: unknown,
    @Req() req: RawBodyRequest<AuthenticatedRequest>,
    @Res({ passthrough: true }) res: Response,
  ) {
    const receivedAtMs = this.clock.now();
    const events = Array.isArray(body) ? body : [body];
    if (body === undefined || body === null || (typeof body !== 'object' && !Array.isArray(body))) {
      throw ApiError.invalid('(body)', 'the body must be a usage event or a JSON array of them');
    }
    if (events.length === 0) throw ApiError.invalid('(body)', 'the batch is empty');
    if (events.length > MAX_EVENTS_PER_REQUEST) {
      throw new ApiError(
        ApiErrorCode.PayloadTooLarge,
        `at most ${MAX_EVENTS_PER_REQUEST} events per request, got ${events.length}`,
      );
    }
    const principal = req.principal;
    const sources = principal.kind === 'agent' ? principal.sources : null;
    // Each event's own text in the body: produced as it was judged, not written out again.
    const texts = req.rawBody ? topLevelJsonTexts(req.rawBody) : null;
    const result = await this.ingestion.ingest(events, receivedAtMs, sources, texts);
    if (result.accepted === 0) {
      res.status(400);
    }
    return result;
  }
}
