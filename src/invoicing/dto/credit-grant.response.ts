import { ApiProperty } from '@nestjs/swagger';
import { GRANT_KINDS } from '../credit-grants';
import { CreditGrantView, GrantStatus } from '../credit-grants.service';

const STATUSES: GrantStatus[] = ['scheduled', 'active', 'used', 'expired', 'voided'];

export class CreditGrantResponse implements CreditGrantView {
  @ApiProperty({ example: 'cg_welcome_2026' })
  grant_id!: string;
  @ApiProperty()
  workspace_id!: string;
  @ApiProperty({ enum: GRANT_KINDS })
  kind!: string;
  @ApiProperty({ example: '250.00' })
  amount!: string;
  @ApiProperty({ example: 'usd' })
  currency!: string;
  @ApiProperty({ example: 50, description: '0–100, lower consumed first' })
  priority!: number;
  @ApiProperty({ format: 'date-time' })
  effective_at!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  expires_at!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  voided_at!: string | null;
  @ApiProperty()
  reason!: string;
  @ApiProperty({ example: '40.00', description: 'what finalized invoices took of it' })
  consumed!: string;
  @ApiProperty({
    example: '210.00',
    description: 'what is left for invoices not finalized yet (0 once expired or voided)',
  })
  balance!: string;
  @ApiProperty({ enum: STATUSES })
  status!: GrantStatus;
}

export class CreditGrantListResponse {
  @ApiProperty()
  workspace_id!: string;
  @ApiProperty({ example: 'usd' })
  currency!: string;
  @ApiProperty({ example: '210.00', description: 'the balances of active and scheduled grants' })
  balance!: string;
  @ApiProperty({ type: () => [CreditGrantResponse] })
  grants!: CreditGrantResponse[];
}

export class VoidedCreditGrantResponse extends CreditGrantResponse {
  @ApiProperty({ example: '210.00', description: 'the unused part this voided' })
  voided_amount!: string;
}
