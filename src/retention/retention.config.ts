import { Transform } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { SliceContext, toInt } from '../config/config-slice';
import { IngestionConfig } from '../ingestion/ingestion.config';

/** Raw event retention (src/retention). */
export class RetentionConfig {
  /**
   * Raw event retention (src/retention): a closed month's raw usage events are dropped from
   * ClickHouse this many days after the month ended; its rollups, invoices and the usage of
   * its price-cut hours are kept. Unset: raw events are kept for ever. Must exceed
   * EVENT_MAX_AGE_DAYS + 1, so that no event of a month can still be accepted when its raw
   * events (the dedupe's memory) are dropped.
   */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(3)
  @Max(36500)
  RAW_EVENT_RETENTION_DAYS?: number;

  /** No event of a month may still be accepted when its raw events (the dedupe's memory) are dropped. */
  static problems(c: RetentionConfig, { of }: SliceContext): string[] {
    const maxAge = of(IngestionConfig).EVENT_MAX_AGE_DAYS;
    return c.RAW_EVENT_RETENTION_DAYS !== undefined && c.RAW_EVENT_RETENTION_DAYS <= maxAge + 1
      ? [
          `RAW_EVENT_RETENTION_DAYS: RAW_EVENT_RETENTION_DAYS must be more than EVENT_MAX_AGE_DAYS + 1 (${maxAge + 1}): an event of a month must no longer be accepted when its raw events are dropped; got ${c.RAW_EVENT_RETENTION_DAYS}`,
        ]
      : [];
  }
}
