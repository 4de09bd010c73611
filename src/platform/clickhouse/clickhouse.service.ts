import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { ClickHouseClient, ClickHouseSettings, createClient } from '@clickhouse/client';
import { AppConfig } from '../../config/app-config';
import { Sql } from './sql';

/**
 * The one way into ClickHouse. Takes SQL only as `Sql` fragments (built by ./sql.ts, which
 * escapes every value), and rows only through `insert`, which sends them as JSONEachRow
 * data, never as SQL text. Failures throw: a billing system never reads "no rows" from an
 * error.
 */
@Injectable()
export class ClickHouseService implements OnModuleDestroy {
  private readonly logger = new Logger(ClickHouseService.name);
  readonly client: ClickHouseClient;
  readonly database: string;

  constructor(config: AppConfig) {
    this.database = config.CLICKHOUSE_DATABASE;
    this.client = createClient({
      url: config.CLICKHOUSE_URL,
      username: config.CLICKHOUSE_USER,
      password: config.CLICKHOUSE_PASSWORD,
      database: config.CLICKHOUSE_DATABASE,
      request_timeout: 30_000,
      max_open_connections: 8,
      application: 'gpumeter',
    });
  }

  /** Rows of a SELECT, as plain objects (UInt64 values arrive as strings: parse them with BigInt). */
  async query<T>(statement: Sql, settings?: ClickHouseSettings): Promise<T[]> {
    const result = await this.client.query({
      query: statement.text,
      format: 'JSONEachRow',
      clickhouse_settings: settings,
    });
    return result.json<T>();
  }

  /** A statement without a result set (DDL, ALTER, INSERT … SELECT). */
  async command(statement: Sql, settings?: ClickHouseSettings): Promise<void> {
    await this.client.command({ query: statement.text, clickhouse_settings: settings });
  }

  /** Rows as JSONEachRow into a table named by the caller's code (never by user input). */
  async insert(table: string, rows: readonly object[]): Promise<void> {
    if (rows.length === 0) return;
    await this.client.insert({ table, values: rows as object[], format: 'JSONEachRow' });
  }

  async ping(): Promise<boolean> {
    try {
      const r = await this.client.ping();
      return r.success;
    } catch {
      return false;
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.client
      .close()
      .catch((e: unknown) => this.logger.warn(`closing ClickHouse client: ${String(e)}`));
  }
}
