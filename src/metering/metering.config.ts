import { Transform } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';
import { toInt } from '../config/config-slice';

/** How the usage consumer stores what it reads: slice size and insert linger. */
export class MeteringConfig {
  /**
   * Events of a fetch stored and committed together at most (a larger fetch is cut into
   * slices of about this many). Slices that arrive together share one insert, and an insert
   * of at least this many events goes without lingering.
   */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(500000)
  CONSUMER_MAX_BATCH_EVENTS = 20000;

  /**
   * How long a small insert round (fewer than CONSUMER_MAX_BATCH_EVENTS events) waits for
   * more before the consumer stores it; 0 stores at once. Fewer, larger inserts leave
   * ClickHouse fewer parts to merge; this bounds what the wait adds to freshness.
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(5000)
  CONSUMER_INSERT_LINGER_MILLISECONDS = 200;
}
