import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { PlanChange, PlanTerms, PriceChange } from '../price-catalog';
import { CostChange } from '../cost-catalog';

/** An amount as the API shows money: major units, two decimals, and its currency. */
export class AmountResponse {
  @ApiProperty({ example: '123.45', description: 'major units, rounded half-up to the cent' })
  amount!: string;
  @ApiProperty({ example: 'usd' })
  currency!: string;
}

export class PriceTableResponse {
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { H100: '0.001097' },
    description: 'USD per GPU-second, per GPU type',
  })
  gpu_per_second!: Record<string, string>;
  @ApiProperty({ example: '0.0000131', description: 'USD per core-second' })
  cpu_per_core_second!: string;
  @ApiProperty({ example: '0.00000222', description: 'USD per GiB-second' })
  memory_per_gib_second!: string;
}

export class PlanTermsResponse implements PlanTerms {
  @ApiProperty({ example: 'team' })
  plan!: string;
  @ApiProperty({ example: '300.00' })
  base_fee!: string;
  @ApiProperty({ example: '100.00' })
  monthly_credits!: string;
}

/** A plan in GET /v1/catalog: its terms and its billing threshold. */
export class CatalogPlanResponse extends PlanTermsResponse {
  @ApiProperty({
    type: String,
    nullable: true,
    example: '500.00',
    description: 'unbilled spend of an open month at which a threshold invoice is drawn up; null: none',
  })
  billing_threshold!: string | null;
}

/** GET /v1/catalog: the prices and plans in force at an instant. */
export class CatalogResponse {
  @ApiProperty({ format: 'date-time' })
  at!: string;
  @ApiProperty({ example: 'usd' })
  currency!: string;
  @ApiProperty({ type: () => PriceTableResponse })
  prices!: PriceTableResponse;
  @ApiProperty({ type: () => [CatalogPlanResponse] })
  plans!: CatalogPlanResponse[];
}

/** POST /v1/catalog/price-changes: the change as published (only the prices it names change). */
export class PriceChangeResponse implements PriceChange {
  @ApiProperty({ format: 'date-time' })
  effective_from!: string;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { H100: '0.001150' },
  })
  gpu_per_second?: Record<string, string>;
  @ApiProperty({ required: false })
  cpu_per_core_second?: string;
  @ApiProperty({ required: false })
  memory_per_gib_second?: string;
}

/** POST /v1/catalog/plan-changes: the plan's terms from an instant on, as published. */
export class PlanChangeResponse extends PlanTermsResponse implements PlanChange {
  @ApiProperty({ format: 'date-time' })
  effective_from!: string;
  @ApiPropertyOptional({
    type: String,
    nullable: true,
    description: 'the billing threshold from then on (null: none); absent: unchanged',
  })
  billing_threshold?: string | null;
}

/** POST /v1/catalog/cost-changes: the change as published (only the costs it names change). */
export class CostChangeResponse implements CostChange {
  @ApiProperty({ format: 'date-time' })
  effective_from!: string;
  @ApiProperty({ example: 'oci' })
  provider!: string;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { H100: '0.00062' },
  })
  gpu_per_second?: Record<string, string>;
  @ApiProperty({ required: false })
  cpu_per_core_second?: string;
  @ApiProperty({ required: false })
  memory_per_gib_second?: string;
}
