import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { InvoiceRunMode, InvoiceRunState, InvoiceRunStatus } from '../invoice-events';

/** An invoice run (POST /v1/invoice-runs, GET /v1/invoice-runs/{id}). */
class InvoiceRunCountsResponse {
  @ApiProperty() invoices!: number;
  @ApiProperty() drafted!: number;
  @ApiProperty() finalized!: number;
  @ApiProperty() already_finalized!: number;
  @ApiProperty() pushed!: number;
  @ApiProperty() already_pushed!: number;
  @ApiProperty() push_failed!: number;
}

class InvoiceRunErrorResponse {
  @ApiProperty({ required: false })
  invoice_id?: string;
  @ApiProperty()
  message!: string;
}

const RUN_STATUSES: InvoiceRunStatus[] = ['running', 'completed', 'failed', 'abandoned'];

/** An invoice run's state (POST /v1/invoice-runs answers 202 with it; poll GET …/{id}). */
export class InvoiceRunResponse implements InvoiceRunState {
  @ApiProperty()
  id!: string;
  @ApiProperty({ example: '2026-11' })
  period!: string;
  @ApiProperty({ enum: ['api', 'cli', 'scheduler'] })
  trigger!: 'api' | 'cli' | 'scheduler';
  @ApiPropertyOptional({ enum: ['threshold'], description: 'present on threshold runs' })
  mode?: InvoiceRunMode;
  @ApiProperty({ enum: RUN_STATUSES, description: 'abandoned: its process stopped beating' })
  status!: InvoiceRunStatus;
  @ApiProperty({ description: 'false while the period is within its grace period: drafts only' })
  finalize!: boolean;
  @ApiProperty({ format: 'date-time' })
  started_at!: string;
  @ApiProperty({ format: 'date-time' })
  updated_at!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  finished_at!: string | null;
  @ApiProperty()
  version!: number;
  @ApiProperty({ type: () => InvoiceRunCountsResponse })
  counts!: InvoiceRunCountsResponse;
  @ApiProperty({ type: () => [InvoiceRunErrorResponse] })
  errors!: InvoiceRunErrorResponse[];
  @ApiProperty()
  pid!: number;
}
