import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Test-only (CLICKHOUSE_STATEMENT_LOG, refused in production): every statement this process
 * sends to ClickHouse, with its data and a SELECT's answer, one JSON line each in
 * `<dir>/<pid>.jsonl`. `stack/chdb/replay.py` plays a run's lines into chDB — the current
 * ClickHouse engine, in process — in the order they happened and compares every answer with
 * the one ClickHouse 18.16 gave (issue 14). `start`/`end` are wall-clock ms with µs (the
 * same clock in every process), so the replay can order the statements of several processes
 * and tell a SELECT that overlapped a write (its answer depends on timing) from one that
 * did not.
 */
export interface LoggedStatement {
  kind: 'command' | 'query' | 'insert' | 'external_query';
  sql: string;
  /** insert: the rows, as objects (JSONEachRow) */
  rows?: unknown[];
  /** external_query: the table sent with the request */
  external?: { name: string; structure: string; tsv: string };
  settings?: Record<string, unknown>;
  /** query, external_query: the rows ClickHouse answered */
  result?: unknown[];
}

export class StatementLog {
  private readonly file: string;
  private seq = 0;

  constructor(
    dir: string,
    private readonly database: string,
  ) {
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, `${process.pid}.jsonl`);
  }

  static now(): number {
    return performance.timeOrigin + performance.now();
  }

  write(entry: LoggedStatement, start: number): void {
    const line = JSON.stringify(
      {
        pid: process.pid,
        seq: ++this.seq,
        start,
        end: StatementLog.now(),
        database: this.database,
        ...entry,
      },
      (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v),
    );
    appendFileSync(this.file, `${line}\n`);
  }
}
