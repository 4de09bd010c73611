import { ApiProperty } from '@nestjs/swagger';
import { AmountResponse } from '../../catalog/dto/catalog.response';
import { BudgetStatus } from '../budget';
import { WorkspaceKeyView, WorkspaceView } from '../workspaces.service';

export class WorkspaceResponse implements WorkspaceView {
  @ApiProperty({ example: 'acme-ml' })
  id!: string;
  @ApiProperty()
  name!: string;
  @ApiProperty()
  email!: string;
  @ApiProperty({ example: 'gpm_ws_AbCdE', description: 'the first characters of the initial key' })
  api_key_prefix!: string;
  @ApiProperty({ format: 'date-time' })
  created_at!: string;
  @ApiProperty({ example: 'team', description: 'the plan of the current billing period' })
  plan!: string;
}

/** POST /v1/workspaces: the workspace and its initial API key — the only time the key is shown. */
export class CreatedWorkspaceResponse extends WorkspaceResponse {
  @ApiProperty({ example: 'gpm_ws_…', description: 'shown once; stored only as its SHA-256' })
  api_key!: string;
}

/** PUT /v1/workspaces/{id}/budget: the budget as published (monthly_limit null: removed). */
export class BudgetSetResponse {
  @ApiProperty()
  workspace_id!: string;
  @ApiProperty({ type: String, nullable: true, example: '500.00' })
  monthly_limit!: string | null;
  @ApiProperty({ type: [Number], example: [50, 80, 100], description: 'percent of the limit' })
  thresholds!: number[];
  @ApiProperty({ description: 'a hard cap: the allowance says no once spend reaches the limit' })
  enforce!: boolean;
}

/** PUT /v1/workspaces/{id}/plan: the plan change as published. */
export class PlanChangedResponse {
  @ApiProperty()
  workspace_id!: string;
  @ApiProperty({ example: 'team' })
  plan!: string;
  @ApiProperty({ format: 'date-time', description: 'the start of a billing period (UTC month)' })
  effective_from!: string;
}

export class WorkspaceKeyResponse implements WorkspaceKeyView {
  @ApiProperty({ example: 'wk_0123456789abcdef' })
  id!: string;
  @ApiProperty()
  name!: string;
  @ApiProperty({ example: 'gpm_ws_AbCdE' })
  api_key_prefix!: string;
  @ApiProperty({ format: 'date-time' })
  created_at!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  revoked_at!: string | null;
}

/** POST /v1/workspaces/{id}/keys: a new key, shown once; the old ones keep working. */
export class CreatedWorkspaceKeyResponse extends WorkspaceKeyResponse {
  @ApiProperty()
  workspace_id!: string;
  @ApiProperty({ example: 'gpm_ws_…', description: 'shown once; stored only as its SHA-256' })
  api_key!: string;
}

export class WorkspaceKeyListResponse {
  @ApiProperty({ type: () => [WorkspaceKeyResponse] })
  data!: WorkspaceKeyResponse[];
}

/** GET /v1/me: who the bearer token is. */
export class MeResponse {
  @ApiProperty({ enum: ['operator', 'workspace', 'agent'] })
  kind!: 'operator' | 'workspace' | 'agent';
  @ApiProperty({ required: false, description: 'for a workspace key' })
  workspace_id?: string;
}

/** A month's spend against its budget (GET /v1/spend/current). */
export class BudgetStatusResponse implements BudgetStatus {
  @ApiProperty({ type: () => AmountResponse })
  monthly_limit!: AmountResponse;
  @ApiProperty()
  enforce!: boolean;
  @ApiProperty({ type: [Number], example: [50, 80, 100] })
  thresholds!: number[];
  @ApiProperty({ example: '42.17', description: 'of the limit, rounded down to two decimals' })
  spent_percent!: string;
  @ApiProperty({ type: [Number] })
  thresholds_reached!: number[];
  @ApiProperty()
  exceeded!: boolean;
  @ApiProperty()
  forecast_exceeds!: boolean;
}

/** GET/PUT/DELETE /v1/workspaces/{id}/billing-threshold: the threshold in force and where it comes from. */
export class BillingThresholdResponse {
  @ApiProperty()
  workspace_id!: string;
  @ApiProperty({
    type: String,
    nullable: true,
    example: '500.00',
    description: 'null: no threshold invoices',
  })
  billing_threshold!: string | null;
  @ApiProperty({ enum: ['workspace', 'plan'], description: "the workspace's own, or its plan's" })
  source!: 'workspace' | 'plan';
  @ApiProperty({ example: 'team' })
  plan!: string;
}
