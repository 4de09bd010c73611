import { Injectable, Logger } from '@nestjs/common';
import { describeError } from '../errors/describe-error';
import { MetricsService } from '../metrics/metrics.service';

/** A stored row a reader could not parse, as reported by GET /v1/reconciliation. */
export interface UnreadableRow {
  table: string;
  row: string;
  detail: string;
  first_seen: string;
  times: number;
}

const KEEP = 100;

/**
 * Reading projections whatever they hold. Projections are rebuilt from Kafka, which is
 * immutable, so a row an older build wrote (or a record that slipped past the checks) can
 * hold a value today's code cannot parse. A reader that meets one skips it, logs it once,
 * counts it (`gpumeter_unreadable_rows_total{table}`) and keeps it for the reconciliation:
 * one bad row must never turn into a 500 for every reader.
 */
@Injectable()
export class StoredRows {
  private readonly logger = new Logger(StoredRows.name);
  private readonly seen = new Map<string, UnreadableRow>();

  constructor(private readonly metrics: MetricsService) {}

  /**
   * `parse` turns a row into a value, or throws / returns undefined for a row it cannot
   * read; `name` says which row it is (its id) for the report.
   */
  read<R, T>(
    table: string,
    rows: readonly R[],
    parse: (row: R) => T | undefined,
    name: (row: R) => string,
  ): T[] {
    const out: T[] = [];
    for (const row of rows) {
      let value: T | undefined;
      let detail = 'unreadable value';
      try {
        value = parse(row);
      } catch (e) {
        detail = describeError(e);
      }
      if (value !== undefined) out.push(value);
      else this.report(table, safeName(name, row), detail);
    }
    return out;
  }

  /** Rows skipped by this process so far (the newest hundred distinct ones). */
  unreadable(): UnreadableRow[] {
    return [...this.seen.values()];
  }

  private report(table: string, row: string, detail: string): void {
    this.metrics.unreadableRows.inc({ table });
    const key = `${table}\u0000${row}`;
    const known = this.seen.get(key);
    if (known) {
      known.times++;
      return;
    }
    this.logger.warn(`skipping an unreadable row of ${table} (${row}): ${detail}`);
    if (this.seen.size >= KEEP) this.seen.delete(this.seen.keys().next().value as string);
    this.seen.set(key, { table, row, detail, first_seen: new Date().toISOString(), times: 1 });
  }
}

function safeName<R>(name: (row: R) => string, row: R): string {
  try {
    return String(name(row)).slice(0, 200);
  } catch {
    return '(unnamed row)';
  }
}
