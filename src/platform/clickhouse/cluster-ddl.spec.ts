import { join } from 'node:path';
import { shardingKeys, toClusterStatements } from './cluster-ddl';
import { readMigrations } from './migrator';

const all = readMigrations(join(__dirname, '..', '..', '..', 'migrations')).flatMap((m) => m.statements);
const target = { cluster: 'gpumeter', database: 'gm', shardingKeys: shardingKeys(all) };

describe('cluster DDL: every migration statement has a cluster form', () => {
  it('a table becomes a replicated local table and a Distributed table over it, sharded by workspace', () => {
    const usage = all.find((s) => s.startsWith('CREATE TABLE IF NOT EXISTS usage_events'))!;
    const [local, distributed] = toClusterStatements(usage, target);
    expect(local.sql).toMatch(
      /^CREATE TABLE IF NOT EXISTS gm\.usage_events_local ON CLUSTER gpumeter \(\s*workspace_id\s+String,[\s\S]*stored_at\s+DateTime DEFAULT now\(\)\s*\) ENGINE = ReplicatedMergeTree\('\/clickhouse\/tables\/\{shard\}\/gm\/usage_events_local', '\{replica\}'\) PARTITION BY toYYYYMM\(ended_at\)\s+ORDER BY \(ended_at, source, id\)$/,
    );
    expect(distributed.sql).toBe(
      'CREATE TABLE IF NOT EXISTS gm.usage_events ON CLUSTER gpumeter AS gm.usage_events_local ENGINE = Distributed(gpumeter, gm, usage_events_local, sipHash64(workspace_id))',
    );
  });

  it('keeps an engine’s own arguments after the replication path', () => {
    const hourly = all.find((s) => s.startsWith('CREATE TABLE IF NOT EXISTS usage_hourly'))!;
    expect(toClusterStatements(hourly, target)[0].sql).toContain(
      "ENGINE = ReplicatedSummingMergeTree('/clickhouse/tables/{shard}/gm/usage_hourly_local', '{replica}', (gpu_ms, cpu_millicore_ms, memory_mib_ms, events))",
    );
    const workspaces = all.find((s) => s.startsWith('CREATE TABLE IF NOT EXISTS workspaces'))!;
    const [local, distributed] = toClusterStatements(workspaces, target);
    expect(local.sql).toContain(
      "ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/gm/workspaces_local', '{replica}', version)",
    );
    // No workspace_id column: sharded by the sorting key's first column (a workspace's id here).
    expect(distributed.sql).toMatch(/sipHash64\(id\)\)$/);
  });

  it('a materialized view reads and writes the local tables', () => {
    const view = all.find((s) => s.startsWith('CREATE MATERIALIZED VIEW'))!;
    const [mv] = toClusterStatements(view, target);
    expect(mv.sql).toMatch(
      /^CREATE MATERIALIZED VIEW IF NOT EXISTS gm\.usage_hourly_mv ON CLUSTER gpumeter TO gm\.usage_hourly_local AS SELECT/,
    );
    expect(mv.sql).toContain('FROM gm.usage_events_local');
    expect(mv.sql).not.toMatch(/FROM usage_events\b/);
  });

  it('an ALTER changes both tables; a data statement runs once through the Distributed tables', () => {
    const alter = all.find((s) => s.startsWith('ALTER TABLE workspace_budgets'))!;
    // ClickHouse refuses ALTER ON CLUSTER for a Distributed table over replicated shards: it is made again.
    expect(toClusterStatements(alter, target).map((s) => s.sql)).toEqual([
      'ALTER TABLE gm.workspace_budgets_local ON CLUSTER gpumeter ADD COLUMN enforce UInt8 DEFAULT 0',
      'DROP TABLE IF EXISTS gm.workspace_budgets ON CLUSTER gpumeter',
      'CREATE TABLE IF NOT EXISTS gm.workspace_budgets ON CLUSTER gpumeter AS gm.workspace_budgets_local ENGINE = Distributed(gpumeter, gm, workspace_budgets_local, sipHash64(workspace_id))',
    ]);
    expect(() => toClusterStatements('ALTER TABLE nowhere ADD COLUMN x UInt8', target)).toThrow(
      /not among the migrations/,
    );
    const insert = all.find((s) => s.startsWith('INSERT INTO credentials'))!;
    expect(toClusterStatements(insert, target)).toEqual([{ sql: insert, onCluster: false }]);
  });

  it('every statement of every migration converts, and every table keeps its sorting key’s rows on one shard', () => {
    for (const statement of all) {
      const out = toClusterStatements(statement, target);
      expect(out.length).toBeGreaterThan(0);
      for (const s of out.filter((x) => x.onCluster)) expect(s.sql).toContain('ON CLUSTER gpumeter');
      // A table sharded by something other than workspace shards by a column of its sorting key.
      const distributed = out.find((s) => s.sql.includes('ENGINE = Distributed'));
      if (distributed && !distributed.sql.includes('sipHash64(workspace_id)')) {
        const key = /sipHash64\((\w+)\)\)$/.exec(distributed.sql)![1];
        expect(statement).toMatch(new RegExp(`ORDER BY \\(?${key}\\b`));
      }
    }
  });

  it('refuses what it has no cluster form for, and names that are not identifiers', () => {
    expect(() => toClusterStatements('DROP TABLE x', target)).toThrow(/no cluster form/);
    expect(() => toClusterStatements('CREATE TABLE IF NOT EXISTS x (a String) ENGINE = Log', target)).toThrow(
      /only \*MergeTree/,
    );
    expect(() => toClusterStatements('SELECT 1', { cluster: 'a b', database: 'gm' })).toThrow(/identifiers/);
  });
});
