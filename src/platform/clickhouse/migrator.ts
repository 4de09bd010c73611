import { createHash } from 'node:crypto';
import { ClickHouseConfig } from './clickhouse.config';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClickHouseSettings, createClient } from '@clickhouse/client';
import { shardingKeys, toClusterStatements } from './cluster-ddl';
import { ident, int, sql, str } from './sql';
import { StatementLog } from './statement-log';

export interface Migration {
  version: number;
  name: string;
  checksum: string;
  statements: string[];
}

/** Splits a migration file into statements: `;` at the end of a line ends one. Comments go. */
export function splitStatements(text: string): string[] {
  const withoutComments = text
    .split('\n')
    .map((line) => (line.trimStart().startsWith('--') ? '' : line))
    .join('\n');
  return withoutComments
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Reads `NNNN_name.sql` files in version order. */
export function readMigrations(dir: string): Migration[] {
  const files = readdirSync(dir)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort();
  return files.map((file) => {
    const text = readFileSync(join(dir, file), 'utf8');
    return {
      version: Number(file.slice(0, 4)),
      name: file.replace(/\.sql$/, ''),
      checksum: createHash('sha256').update(text).digest('hex'),
      statements: splitStatements(text),
    };
  });
}

export class MigrationChecksumMismatch extends Error {}

/**
 * Applies the numbered SQL files of migrations/ that are not yet recorded in
 * `schema_migrations`. Re-running is a no-op. An applied file whose text changed since is
 * refused: migrations are append-only, a fix is a new file.
 */
export async function migrate(
  config: ClickHouseConfig,
  dir: string,
  log: (line: string) => void = () => undefined,
): Promise<{ applied: string[]; skipped: string[] }> {
  const client = createClient({
    url: config.CLICKHOUSE_URL,
    username: config.CLICKHOUSE_USER,
    password: config.CLICKHOUSE_PASSWORD,
    request_timeout: 30_000,
  });
  // Migration files name tables without a database; they run in CLICKHOUSE_DATABASE.
  const inDatabase = createClient({
    url: config.CLICKHOUSE_URL,
    username: config.CLICKHOUSE_USER,
    password: config.CLICKHOUSE_PASSWORD,
    database: config.CLICKHOUSE_DATABASE,
    request_timeout: 30_000,
  });
  const db = ident(config.CLICKHOUSE_DATABASE);
  const cluster = config.CLICKHOUSE_CLUSTER;
  // The statement log (tests only, statement-log.ts): the schema is part of what chDB replays.
  const statementLog = config.CLICKHOUSE_STATEMENT_LOG
    ? new StatementLog(config.CLICKHOUSE_STATEMENT_LOG, config.CLICKHOUSE_DATABASE)
    : undefined;
  const run = async (target: typeof client, query: string, settings?: ClickHouseSettings) => {
    const start = StatementLog.now();
    await target.command({ query, clickhouse_settings: settings });
    statementLog?.write({ kind: 'command', sql: query, settings }, start);
  };
  const onCluster = cluster ? sql` ON CLUSTER ${ident(cluster)}` : sql``;
  // On a cluster, the record is one replicated table every server holds whole (one ZooKeeper
  // path for all of them, no shard): a migration is recorded once, and seen from any server.
  const recordEngine = cluster
    ? `ReplicatedMergeTree('/clickhouse/tables/all/${config.CLICKHOUSE_DATABASE}/schema_migrations', '{replica}')`
    : 'MergeTree()';
  try {
    await run(client, sql`CREATE DATABASE IF NOT EXISTS ${db}${onCluster}`.text);
    await run(
      client,
      sql`CREATE TABLE IF NOT EXISTS ${db}.schema_migrations${onCluster} (version UInt32, name String, checksum String, applied_at DateTime DEFAULT now()) ENGINE = `
        .text + `${recordEngine} ORDER BY version`,
    );
    const rows = await (
      await client.query({
        query: sql`SELECT version, name, checksum FROM ${db}.schema_migrations`.text,
        format: 'JSONEachRow',
      })
    ).json<{ version: number; name: string; checksum: string }>();
    const applied = new Map(rows.map((r) => [Number(r.version), r]));
    const result = { applied: [] as string[], skipped: [] as string[] };
    const migrations = readMigrations(dir);
    const keys = shardingKeys(migrations.flatMap((m) => m.statements));
    for (const m of migrations) {
      const done = applied.get(m.version);
      if (done) {
        if (done.checksum !== m.checksum) {
          throw new MigrationChecksumMismatch(
            `migration ${m.name} was applied with a different text (checksum ${done.checksum.slice(0, 12)}…); add a new migration instead of editing it`,
          );
        }
        result.skipped.push(m.name);
        continue;
      }
      for (const statement of m.statements) {
        if (!cluster) {
          await run(inDatabase, statement);
          continue;
        }
        for (const step of toClusterStatements(statement, {
          cluster,
          database: config.CLICKHOUSE_DATABASE,
          shardingKeys: keys,
        }))
          if (step.onCluster) await client.command({ query: step.sql });
          // Data statements go once through the Distributed tables, and wait for the shards.
          else
            await inDatabase.command({
              query: step.sql,
              clickhouse_settings: { insert_distributed_sync: 1 },
            });
      }
      await run(
        client,
        sql`INSERT INTO ${db}.schema_migrations (version, name, checksum) VALUES (${int(m.version)}, ${str(m.name)}, ${str(m.checksum)})`
          .text,
      );
      log(`applied ${m.name}`);
      result.applied.push(m.name);
    }
    return result;
  } finally {
    await client.close();
    await inDatabase.close();
  }
}
