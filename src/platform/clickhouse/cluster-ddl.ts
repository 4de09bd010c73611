/**
 * Cluster mode (CLICKHOUSE_CLUSTER, issue 14): the migrations are written once, for one
 * server; this turns each statement into what a sharded, replicated cluster needs.
 *
 * - `CREATE TABLE t (…) ENGINE = XMergeTree(args) …` becomes the shard-local replicated table
 *   `t_local` (`ReplicatedXMergeTree('/clickhouse/tables/{shard}/<db>/t_local', '{replica}', args)`)
 *   on every server, and `t`, a Distributed table over it: every reader and writer keeps
 *   using `t`.
 * - Rows are sharded by workspace (`sipHash64(workspace_id)`) when the table has that column,
 *   else by the first column of its sorting key. Either way every copy of a row with the same
 *   sorting key lands on the same shard, so `FINAL` and `sum() … GROUP BY` on the Distributed
 *   table stay exact (ReplacingMergeTree collapses and SummingMergeTree sums only within a
 *   shard), and a workspace's events, rollups and invoices live together.
 * - A materialized view reads and writes the local tables on each server: a shard's rollups
 *   are made from that shard's events, which share their sharding key.
 * - `ALTER TABLE t …` changes `t_local` and `t`.
 * - Any other statement (a data migration's INSERT … SELECT) runs once, through the
 *   Distributed tables.
 *
 * Pure: unit-tested statement by statement against every migration (cluster-ddl.spec.ts),
 * and applied to the local cluster by the cluster suite.
 */
export interface ClusterTarget {
  cluster: string;
  database: string;
  /** table → its Distributed table's sharding key, from every migration (shardingKeys()). */
  shardingKeys?: ReadonlyMap<string, string>;
}

/** The DDL to run ON CLUSTER, in order, and whether the statement is data (run once). */
export interface ClusterStatement {
  sql: string;
  onCluster: boolean;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The index just past the parenthesis that closes the one at `open`. */
function closing(text: string, open: number): number {
  let depth = 0;
  let quoted = false;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === "'") quoted = false;
    } else if (c === "'") quoted = true;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i + 1;
  }
  throw new Error(`unbalanced parentheses in: ${text.slice(0, 80)}…`);
}

function columnNames(columns: string): string[] {
  const names: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i <= columns.length; i++) {
    const c = columns[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if ((c === ',' && depth === 0) || i === columns.length) {
      const name = columns.slice(start, i).trim().split(/\s+/)[0];
      if (name) names.push(name);
      start = i + 1;
    }
  }
  return names;
}

function shardingKey(columns: string[], orderBy: string): string {
  if (columns.includes('workspace_id')) return 'sipHash64(workspace_id)';
  const first = orderBy.replace(/^\(/, '').split(/[,)]/)[0].trim();
  if (!IDENT.test(first) || !columns.includes(first))
    throw new Error(`cannot shard by the sorting key ${orderBy}: name a column first`);
  return `sipHash64(${first})`;
}

interface CreateTable {
  name: string;
  columns: string;
  engine: string;
  args: string;
  rest: string;
  shardingKey: string;
}

function parseCreateTable(text: string): CreateTable | undefined {
  const head = /^CREATE TABLE IF NOT EXISTS ([A-Za-z_][A-Za-z0-9_]*)\s*\(/.exec(text);
  if (!head) return undefined;
  const name = head[1];
  const open = head[0].length - 1;
  const end = closing(text, open);
  const columns = text.slice(open + 1, end - 1);
  const engine = /^\s*ENGINE\s*=\s*([A-Za-z]*MergeTree)\(/.exec(text.slice(end));
  if (!engine) throw new Error(`table ${name}: only *MergeTree engines can be made replicated`);
  const argsOpen = end + engine[0].length - 1;
  const argsEnd = closing(text, argsOpen);
  const rest = text.slice(argsEnd).trim();
  const orderBy = /ORDER BY\s+(\([^)]*\)|[A-Za-z_][A-Za-z0-9_]*)/.exec(rest);
  if (!orderBy) throw new Error(`table ${name}: no ORDER BY`);
  return {
    name,
    columns,
    engine: engine[1],
    args: text.slice(argsOpen + 1, argsEnd - 1).trim(),
    rest,
    shardingKey: shardingKey(columnNames(columns), orderBy[1]),
  };
}

/** Every table's sharding key, from the CREATE TABLE statements of the migrations. */
export function shardingKeys(statements: readonly string[]): Map<string, string> {
  const keys = new Map<string, string>();
  for (const s of statements) {
    const table = parseCreateTable(s.trim());
    if (table) keys.set(table.name, table.shardingKey);
  }
  return keys;
}

export function toClusterStatements(statement: string, target: ClusterTarget): ClusterStatement[] {
  const { cluster, database: db } = target;
  if (!IDENT.test(cluster) || !IDENT.test(db)) throw new Error('cluster and database must be identifiers');
  const text = statement.trim();

  const table = parseCreateTable(text);
  if (table) {
    const { name, columns, engine, args, rest } = table;
    const local = `${name}_local`;
    const replicated = [
      `'/clickhouse/tables/{shard}/${db}/${local}'`,
      `'{replica}'`,
      ...(args ? [args] : []),
    ];
    return [
      {
        sql: `CREATE TABLE IF NOT EXISTS ${db}.${local} ON CLUSTER ${cluster} (${columns}) ENGINE = Replicated${engine}(${replicated.join(', ')}) ${rest}`,
        onCluster: true,
      },
      {
        sql: `CREATE TABLE IF NOT EXISTS ${db}.${name} ON CLUSTER ${cluster} AS ${db}.${local} ENGINE = Distributed(${cluster}, ${db}, ${local}, ${table.shardingKey})`,
        onCluster: true,
      },
    ];
  }

  const view =
    /^CREATE MATERIALIZED VIEW IF NOT EXISTS ([A-Za-z_][A-Za-z0-9_]*) TO ([A-Za-z_][A-Za-z0-9_]*) AS\s/.exec(
      text,
    );
  if (view) {
    const body = text.slice(view[0].length);
    const sources = [...body.matchAll(/\bFROM\s+([A-Za-z_][A-Za-z0-9_]*)\b/g)];
    if (sources.length !== 1) throw new Error(`view ${view[1]}: expected one FROM table`);
    const localBody = body.replace(
      /\bFROM\s+([A-Za-z_][A-Za-z0-9_]*)\b/,
      (_, t: string) => `FROM ${db}.${t}_local`,
    );
    return [
      {
        sql: `CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.${view[1]} ON CLUSTER ${cluster} TO ${db}.${view[2]}_local AS ${localBody}`,
        onCluster: true,
      },
    ];
  }

  const alter = /^ALTER TABLE ([A-Za-z_][A-Za-z0-9_]*)\s+(ADD COLUMN .*)$/s.exec(text);
  if (alter) {
    // The replicated table is altered once per shard (ZooKeeper carries it to the replicas);
    // ClickHouse refuses ALTER … ON CLUSTER for the Distributed table over replicated shards,
    // and that table holds no rows (inserts are synchronous), so it is made again over the
    // altered local table, with the sharding key its CREATE gave it.
    const name = alter[1];
    const key = target.shardingKeys?.get(name);
    if (!key) throw new Error(`ALTER TABLE ${name}: its CREATE TABLE is not among the migrations`);
    return [
      { sql: `ALTER TABLE ${db}.${name}_local ON CLUSTER ${cluster} ${alter[2]}`, onCluster: true },
      { sql: `DROP TABLE IF EXISTS ${db}.${name} ON CLUSTER ${cluster}`, onCluster: true },
      {
        sql: `CREATE TABLE IF NOT EXISTS ${db}.${name} ON CLUSTER ${cluster} AS ${db}.${name}_local ENGINE = Distributed(${cluster}, ${db}, ${name}_local, ${key})`,
        onCluster: true,
      },
    ];
  }

  if (/^(CREATE|ALTER|DROP|RENAME)\b/i.test(text))
    throw new Error(`no cluster form for: ${text.slice(0, 80)}… (add one to cluster-ddl.ts)`);
  return [{ sql: text, onCluster: false }];
}
