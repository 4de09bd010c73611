import { Transform } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';
import { toInt } from '../config/config-slice';

/** When months are finalized and how often the scheduler and threshold billing look. */
export class InvoicingConfig {
  /** Hours after a period's end before its invoices are finalized (late usage still lands on them). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(24 * 45)
  INVOICE_GRACE_HOURS = 72;

  /** How often the scheduler looks for a period to invoice; 0 turns it off. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(86400)
  INVOICE_SCHEDULER_INTERVAL_SECONDS = 300;

  /**
   * How often the worker looks for workspaces whose open month's unbilled spend reached their
   * billing threshold and draws up their threshold invoices; 0 turns it off.
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(86400)
  THRESHOLD_BILLING_INTERVAL_SECONDS = 300;
}
