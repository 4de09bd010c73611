import { ApiProperty } from '@nestjs/swagger';
import { AmountResponse } from '../../catalog/dto/catalog.response';
import { BudgetStatusResponse } from '../../workspaces/dto/workspace.response';

/** GET /v1/spend/current: the open month's spend so far, its forecast, credits and budget. */
class SpendForecastResponse {
  @ApiProperty({ example: 'linear: usage so far × period length ÷ time elapsed' })
  method!: string;
  @ApiProperty({ type: () => AmountResponse })
  usage!: AmountResponse;
  @ApiProperty({ type: () => AmountResponse })
  credits_applied!: AmountResponse;
  @ApiProperty({ type: () => AmountResponse })
  total!: AmountResponse;
}

class SpendCreditGrantResponse {
  @ApiProperty({ example: 'cg_welcome_2026' })
  grant_id!: string;
  @ApiProperty({ example: 'promotional' })
  kind!: string;
  @ApiProperty({ example: '40.00', description: 'taken by the month so far' })
  applied!: string;
  @ApiProperty({ example: '210.00', description: 'left after the month so far' })
  balance!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  expires_at!: string | null;
}

/** GET /v1/spend/current: the open period's spend so far and a linear forecast. */
export class CurrentSpendResponse {
  @ApiProperty()
  workspace_id!: string;
  @ApiProperty({ example: '2026-12' })
  period!: string;
  @ApiProperty({ format: 'date-time' })
  period_start!: string;
  @ApiProperty({ format: 'date-time' })
  period_end!: string;
  @ApiProperty({ format: 'date-time' })
  as_of!: string;
  @ApiProperty({ example: 'team' })
  plan!: string;
  @ApiProperty({ type: () => AmountResponse })
  usage!: AmountResponse;
  @ApiProperty({ type: () => AmountResponse })
  credits_applied!: AmountResponse;
  @ApiProperty({ type: () => AmountResponse, description: 'the plan’s monthly credits less those applied' })
  credits_left!: AmountResponse;
  @ApiProperty({ type: () => AmountResponse })
  monthly_credits!: AmountResponse;
  @ApiProperty({
    type: () => AmountResponse,
    description: 'what is left of the credit grants in force after the month so far (plan credits apart)',
  })
  credit_balance!: AmountResponse;
  @ApiProperty({ type: () => [SpendCreditGrantResponse] })
  credit_grants!: SpendCreditGrantResponse[];
  @ApiProperty({ type: () => AmountResponse })
  plan_fee!: AmountResponse;
  @ApiProperty({ type: () => AmountResponse })
  adjustments!: AmountResponse;
  @ApiProperty({ type: () => AmountResponse })
  spend_so_far!: AmountResponse;
  @ApiProperty({
    type: () => AmountResponse,
    description: 'the part of spend_so_far the month’s threshold invoices billed already',
  })
  billed_on_threshold_invoices!: AmountResponse;
  @ApiProperty({ type: () => [SpendThresholdInvoiceResponse] })
  threshold_invoices!: SpendThresholdInvoiceResponse[];
  @ApiProperty({ type: () => SpendForecastResponse })
  forecast!: SpendForecastResponse;
  @ApiProperty({ type: () => BudgetStatusResponse, nullable: true })
  budget!: BudgetStatusResponse | null;
}

export class SpendThresholdInvoiceResponse {
  @ApiProperty({ example: 'inv_2026-12_acme-ml_t1' })
  id!: string;
  @ApiProperty({ example: '512.40' })
  total!: string;
  @ApiProperty({ format: 'date-time' })
  usage_as_of!: string;
}
