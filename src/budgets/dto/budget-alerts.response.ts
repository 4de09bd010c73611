import { ApiProperty } from '@nestjs/swagger';
import { BUDGET_ALERT_TYPES, BudgetAlertType } from '../budget-alert-events';
import { BudgetAlertView } from '../budget-alert-history.service';

class NotifiedResponse {
  @ApiProperty()
  endpoint_id!: string;
  @ApiProperty()
  url!: string;
  @ApiProperty({
    enum: ['pending', 'succeeded', 'failed', 'gave_up'],
    description: 'the last attempt’s outcome',
  })
  status!: 'pending' | 'succeeded' | 'failed' | 'gave_up';
}

class BudgetAlertResponse implements BudgetAlertView {
  @ApiProperty({ example: 'alert:acme-ml:2026-11:500.00:80' })
  id!: string;
  @ApiProperty({ enum: BUDGET_ALERT_TYPES })
  type!: BudgetAlertType;
  @ApiProperty({ type: Number, nullable: true, example: 80, description: 'percent, for threshold alerts' })
  threshold!: number | null;
  @ApiProperty({ example: '500.00' })
  monthly_limit!: string;
  @ApiProperty({ example: '401.17', description: 'the month’s spend when it was decided' })
  spend!: string;
  @ApiProperty({ format: 'date-time' })
  decided_at!: string;
  @ApiProperty({
    type: () => [NotifiedResponse],
    description: 'the workspace’s own endpoints it was sent to',
  })
  notified!: NotifiedResponse[];
}

/** GET /v1/workspaces/{id}/budget/alerts: a month's alerts, oldest first. */
export class BudgetAlertsResponse {
  @ApiProperty()
  workspace_id!: string;
  @ApiProperty({ example: '2026-11' })
  period!: string;
  @ApiProperty({ type: () => [BudgetAlertResponse] })
  alerts!: BudgetAlertResponse[];
}
