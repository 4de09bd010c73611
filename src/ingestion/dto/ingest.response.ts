import { ApiProperty } from '@nestjs/swagger';
import { FieldError } from '../usage-event/usage-event';
import { IngestResult } from '../ingestion.service';

export class FieldErrorResponse implements FieldError {
  @ApiProperty({ example: 'data.ended_at' })
  field!: string;
  @ApiProperty()
  message!: string;
}

export class RejectedEventResponse {
  @ApiProperty({ description: 'the event’s position in the batch (0 for a single event)' })
  index!: number;
  @ApiProperty({ type: String, nullable: true, description: 'its id, when it had a readable one' })
  id!: string | null;
  @ApiProperty({ type: () => [FieldErrorResponse] })
  errors!: FieldErrorResponse[];
}

/** POST /v1/events: the valid events are durable in Kafka; each invalid one is named. */
export class IngestResponse implements IngestResult {
  @ApiProperty({ example: 999 })
  accepted!: number;
  @ApiProperty({ type: () => [RejectedEventResponse] })
  rejected!: RejectedEventResponse[];
}
