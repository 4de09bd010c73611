import { Transform } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';
import { toInt } from '../config/config-slice';

/** Which events are accepted by time: how far ahead (agent clock skew) and how old. */
export class IngestionConfig {
  /** How far in the future ended_at may be, to absorb agent clock skew. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(3600)
  EVENT_MAX_FUTURE_SECONDS = 300;

  /** How old (ended_at before ingestion) an event may be and still be accepted. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(400)
  EVENT_MAX_AGE_DAYS = 35;
}
