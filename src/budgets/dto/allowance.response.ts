import { ApiProperty } from '@nestjs/swagger';
import { AmountResponse } from '../../catalog/dto/catalog.response';
import { Allowance } from '../allowance.service';

/** GET /v1/workspaces/{id}/allowance: may this workspace start containers now. */
export class AllowanceResponse implements Allowance {
  @ApiProperty()
  workspace_id!: string;
  @ApiProperty()
  allowed!: boolean;
  @ApiProperty({ enum: ['budget_exceeded'], required: false })
  reason?: 'budget_exceeded';
  @ApiProperty({ example: '2026-12' })
  period!: string;
  @ApiProperty({ type: () => AmountResponse, nullable: true })
  monthly_limit!: AmountResponse | null;
  @ApiProperty()
  enforced!: boolean;
  @ApiProperty({ format: 'date-time' })
  as_of!: string;
}
