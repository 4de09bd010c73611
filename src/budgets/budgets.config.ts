import { Transform } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';
import { toInt } from '../config/config-slice';

/** How often budget alerts are evaluated and the allowance reloaded. */
export class BudgetsConfig {
  /** How often budget alerts are evaluated for the workspaces that got usage (a full sweep runs every minute). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(60)
  BUDGET_ALERT_INTERVAL_SECONDS = 5;

  /** How often the allowance's memory (enforced budgets, caps reached) is reloaded. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(60_000)
  ALLOWANCE_REFRESH_MILLISECONDS = 1000;
}
