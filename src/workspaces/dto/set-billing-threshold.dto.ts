import { ApiProperty } from '@nestjs/swagger';
import { IsString, Matches, ValidateIf } from 'class-validator';
import { BILLING_THRESHOLD_PATTERN } from '../../catalog/patterns';

export class SetBillingThresholdDto {
  @ApiProperty({
    example: '500.00',
    nullable: true,
    description:
      'unbilled spend of the open month at which a threshold invoice is drawn up (USD, at least 1.00); null: none for this workspace, whatever its plan says',
  })
  @ValidateIf((o: SetBillingThresholdDto) => o.billing_threshold !== null)
  @IsString({ message: 'billing_threshold must be a decimal string of at least 1.00 like "500.00", or null' })
  @Matches(BILLING_THRESHOLD_PATTERN, {
    message: 'billing_threshold must be a decimal string of at least 1.00 like "500.00", or null',
  })
  billing_threshold!: string | null;
}
