import { IsOptional, IsString, IsUrl, Matches } from 'class-validator';
import { SliceContext } from '../../config/config-slice';

/** Where ClickHouse is, as whom, which database and cluster. */
export class ClickHouseConfig {
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  CLICKHOUSE_URL = 'http://localhost:8123';

  @Matches(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, {
    message: 'CLICKHOUSE_DATABASE must be an identifier: letters, digits and _ (max 64)',
  })
  CLICKHOUSE_DATABASE = 'gpumeter';

  /**
   * Cluster mode (issue 14): the name of a cluster in the servers' remote_servers. Migrations
   * then make replicated shard-local tables and Distributed tables over them, sharded by
   * workspace (platform/clickhouse/cluster-ddl.ts), and inserts wait until the shard stored
   * them. Unset: one server, as before.
   */
  @IsOptional()
  @Matches(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, {
    message: 'CLICKHOUSE_CLUSTER must be a cluster name: letters, digits and _ (max 64)',
  })
  CLICKHOUSE_CLUSTER?: string;

  /**
   * Test only: a folder where every statement sent to ClickHouse is logged with its data and
   * answers, for the chDB differential lane (platform/clickhouse/statement-log.ts). Refused in
   * production: it writes every row to disk.
   */
  @IsOptional()
  @IsString()
  CLICKHOUSE_STATEMENT_LOG?: string;

  @IsString()
  CLICKHOUSE_USER = 'default';

  @IsString()
  CLICKHOUSE_PASSWORD = '';

  static readonly SECRETS = ['CLICKHOUSE_PASSWORD'] as const;

  static problems(c: ClickHouseConfig, { production }: SliceContext): string[] {
    if (!production) return [];
    const problems: string[] = [];
    if (c.CLICKHOUSE_STATEMENT_LOG !== undefined)
      problems.push(
        `CLICKHOUSE_STATEMENT_LOG: CLICKHOUSE_STATEMENT_LOG is for tests (it writes every row to disk) and must be unset when GPUMETER_ENV=production`,
      );
    if (c.CLICKHOUSE_PASSWORD === '')
      problems.push(
        `CLICKHOUSE_PASSWORD: CLICKHOUSE_PASSWORD must not be empty when GPUMETER_ENV=production`,
      );
    return problems;
  }
}
