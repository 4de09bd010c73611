import { ApiProperty } from '@nestjs/swagger';
import { UsageRowView } from '../usage.service';
import { BreakdownCell, BreakdownRow } from '../usage-breakdown';

const QUANTITY =
  'an exact plain decimal without trailing zeros, the one quantity format of /v1/usage, exports and invoice lines';

export class UsageRowResponse implements UsageRowView {
  @ApiProperty({ format: 'date-time' })
  window_start!: string;
  @ApiProperty({ format: 'date-time' })
  window_end!: string;
  @ApiProperty({ required: false, description: 'when grouped by gpu_type' })
  gpu_type?: string;
  @ApiProperty({ required: false, description: 'when grouped by app_id' })
  app_id?: string;
  @ApiProperty({ required: false, description: 'when grouped by function_id' })
  function_id?: string;
  @ApiProperty({ required: false, description: 'when grouped by region' })
  region?: string;
  @ApiProperty({ example: '7.3', description: `GPU-seconds, ${QUANTITY}` })
  gpu_seconds!: string;
  @ApiProperty({ example: '7300', description: 'GPU-milliseconds, an integer' })
  gpu_ms!: string;
  @ApiProperty({ example: '18.25', description: `core-seconds, ${QUANTITY}` })
  cpu_core_seconds!: string;
  @ApiProperty({ example: '7.3', description: `GiB-seconds, ${QUANTITY}` })
  memory_gib_seconds!: string;
  @ApiProperty({ example: '2', description: 'usage events, an integer' })
  events!: string;
  @ApiProperty({ example: '0.01', description: 'GPU, CPU and memory at the prices in force, rounded once' })
  amount!: string;
  @ApiProperty({ example: 'usd' })
  currency!: string;
}

/** GPU-seconds (exact) and an amount that is a sum of rounded row amounts. */
class RatedTotalsResponse {
  @ApiProperty({ example: '7.3' })
  gpu_seconds!: string;
  @ApiProperty({ example: '7300' })
  gpu_ms!: string;
  @ApiProperty({ example: '0.01', description: 'the sum of the rows’ rounded amounts' })
  amount!: string;
}

class UsageTotalsResponse extends RatedTotalsResponse {
  @ApiProperty({ example: 'usd' })
  currency!: string;
}

/** GET /v1/usage: rated usage per window and group. */
export class UsageResponse {
  @ApiProperty()
  workspace_id!: string;
  @ApiProperty({ format: 'date-time' })
  from!: string;
  @ApiProperty({ format: 'date-time' })
  to!: string;
  @ApiProperty({ enum: ['hour', 'day', 'month'] })
  window!: 'hour' | 'day' | 'month';
  @ApiProperty({ type: [String], example: ['gpu_type'] })
  group_by!: string[];
  @ApiProperty({ type: () => [UsageRowResponse] })
  rows!: UsageRowResponse[];
  @ApiProperty({ type: () => UsageTotalsResponse })
  totals!: UsageTotalsResponse;
}

class BreakdownCellResponse extends RatedTotalsResponse implements BreakdownCell {
  @ApiProperty({ example: 'H100' })
  gpu_type!: string;
}

class BreakdownFiguresResponse extends RatedTotalsResponse {
  @ApiProperty({ type: () => [BreakdownCellResponse] })
  by_gpu_type!: BreakdownCellResponse[];
}

class BreakdownRowResponse extends BreakdownFiguresResponse implements BreakdownRow {
  @ApiProperty()
  app_id!: string;
  @ApiProperty({ required: false, description: 'when by=function_id (a function is named within its app)' })
  function_id?: string;
}

class BreakdownOtherResponse extends BreakdownFiguresResponse {
  @ApiProperty({ description: 'how many apps or functions are summed here' })
  count!: number;
}

/** GET /v1/usage/breakdown: the top apps or functions by amount, then "other". */
export class UsageBreakdownResponse {
  @ApiProperty()
  workspace_id!: string;
  @ApiProperty({ format: 'date-time' })
  from!: string;
  @ApiProperty({ format: 'date-time' })
  to!: string;
  @ApiProperty({ enum: ['app_id', 'function_id'] })
  by!: 'app_id' | 'function_id';
  @ApiProperty({ example: 20 })
  limit!: number;
  @ApiProperty({ example: 'usd' })
  currency!: string;
  @ApiProperty({ type: [String], example: ['A100', 'H100'] })
  gpu_types!: string[];
  @ApiProperty({ type: () => [BreakdownRowResponse], description: 'highest amount first' })
  rows!: BreakdownRowResponse[];
  @ApiProperty({ type: () => BreakdownOtherResponse, nullable: true })
  other!: BreakdownOtherResponse | null;
  @ApiProperty({ type: () => BreakdownFiguresResponse })
  totals!: BreakdownFiguresResponse;
}
