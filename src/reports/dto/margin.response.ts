import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { MARGIN_GROUP_KEYS, MarginFigures, MarginGroupKey, MarginRow, UncoveredReason } from '../margin';

const EXACT = 'USD, exact and unrounded (round once where shown or charged)';

export class MarginFiguresResponse implements MarginFigures {
  @ApiProperty({ example: '86400' }) gpu_seconds!: string;
  @ApiProperty({ example: '345600' }) core_seconds!: string;
  @ApiProperty({ example: '2764800' }) gib_seconds!: string;
  @ApiProperty({ example: '94.7808', description: `usage at list prices; ${EXACT}` }) revenue_list!: string;
  @ApiProperty({
    example: '12.34',
    description: "the workspaces' credits for the month, pro rata; whole cents",
  })
  credits!: string;
  @ApiProperty({ example: '82.4408', description: `revenue_list less credits; ${EXACT}` }) revenue!: string;
}

export class UncoveredResponse extends MarginFiguresResponse {
  @ApiProperty({ enum: ['no_provider', 'unknown_provider', 'no_cost_in_force'], isArray: true })
  reasons!: UncoveredReason[];
}

export class MarginTotalsResponse extends MarginFiguresResponse {
  @ApiProperty({ example: '53.568', description: `what the covered usage cost; ${EXACT}` }) cost!: string;
  @ApiProperty({ example: '28.8728', description: `revenue less cost, of the covered usage; ${EXACT}` })
  margin!: string;
  @ApiProperty({
    type: String,
    nullable: true,
    example: '35.02',
    description: 'margin ÷ revenue × 100, half-up to two decimals; null without revenue',
  })
  margin_percent!: string | null;
  @ApiProperty({
    type: () => UncoveredResponse,
    nullable: true,
    description: 'usage no cost covers (left out of cost and margin, never counted at zero cost)',
  })
  uncovered!: UncoveredResponse | null;
}

export class MarginRowResponse extends MarginTotalsResponse implements MarginRow {
  @ApiPropertyOptional({ example: 'oci' }) provider?: string;
  @ApiPropertyOptional({ example: 'H100' }) gpu_type?: string;
  @ApiPropertyOptional({ example: 'us-east' }) region?: string;
}

export class MarginReportResponse {
  @ApiProperty({ example: '2026-11' }) period!: string;
  @ApiProperty({ enum: MARGIN_GROUP_KEYS, isArray: true }) group_by!: MarginGroupKey[];
  @ApiProperty({ example: 'usd' }) currency!: 'usd';
  @ApiProperty({ format: 'date-time' }) as_of!: string;
  @ApiProperty({ type: () => [MarginRowResponse] }) rows!: MarginRowResponse[];
  @ApiProperty({ type: () => MarginTotalsResponse }) totals!: MarginTotalsResponse;
}
