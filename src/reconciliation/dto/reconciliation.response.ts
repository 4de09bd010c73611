import { ApiProperty } from '@nestjs/swagger';
import { Difference } from '../reconciliation.service';

export class DifferenceResponse implements Difference {
  @ApiProperty({ example: 'invoices.stale_draft', description: 'which comparison found it' })
  check!: string;
  @ApiProperty({ required: false })
  workspace_id?: string;
  @ApiProperty({ required: false })
  invoice_id?: string;
  @ApiProperty({ required: false, description: 'unbilled usage: what the next invoice run adds' })
  amount?: string;
  @ApiProperty()
  detail!: string;
}

class KafkaFiguresResponse {
  @ApiProperty({ description: 'an integer' }) usage_messages!: string;
  @ApiProperty({ description: 'an integer' }) usage_consumer_lag!: string;
  @ApiProperty({ description: 'an integer' }) dead_lettered!: string;
  @ApiProperty({ description: 'an integer' }) billing_dead_lettered!: string;
}

class ClickHouseFiguresResponse {
  @ApiProperty() duplicate_events!: number;
  @ApiProperty() rollup_mismatches!: number;
  @ApiProperty() unreadable_rows!: number;
}

class InvoiceFiguresResponse {
  @ApiProperty() closed!: boolean;
  @ApiProperty() count!: number;
  @ApiProperty() finalized!: number;
  @ApiProperty() pushed!: number;
  @ApiProperty({ example: '12345.67' }) total!: string;
  @ApiProperty() unbilled_workspaces!: number;
  @ApiProperty({ description: 'finalized lines whose events changed since (invoices.line_events_changed)' })
  traced_lines_changed!: number;
  @ApiProperty({
    enum: ['checked', 'retired'],
    description:
      'retired: the month’s raw events were dropped (raw event retention), its lines’ events cannot be checked',
  })
  line_events!: 'checked' | 'retired';
}

class StripeFiguresResponse {
  @ApiProperty() checked!: number;
  @ApiProperty({ description: 'true when the check against Stripe was not asked for' }) skipped!: boolean;
}

/** GET /v1/reconciliation: events vs ClickHouse vs invoices vs Stripe for one month. */
export class ReconciliationResponse {
  @ApiProperty({ example: '2026-11' })
  period!: string;
  @ApiProperty({ format: 'date-time' })
  checked_at!: string;
  @ApiProperty({ description: 'no difference found' })
  ok!: boolean;
  @ApiProperty({ type: () => KafkaFiguresResponse })
  kafka!: KafkaFiguresResponse;
  @ApiProperty({ type: () => ClickHouseFiguresResponse })
  clickhouse!: ClickHouseFiguresResponse;
  @ApiProperty({ type: () => InvoiceFiguresResponse })
  invoices!: InvoiceFiguresResponse;
  @ApiProperty({ type: () => StripeFiguresResponse })
  stripe!: StripeFiguresResponse;
  @ApiProperty({ type: () => [DifferenceResponse] })
  differences!: DifferenceResponse[];
}
