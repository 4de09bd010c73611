import 'reflect-metadata';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { invoiceRunCommand } from './cli/invoice-run';
import { replayCommand } from './cli/replay';
import { retentionCommand } from './cli/retention';
import { ConfigurationError, loadConfig } from './app-config';
import { agentTransport, defaultAgentName, parseDuration, runAgent } from './cli/agent';
import { simulate } from './cli/simulate';
import { migrate } from './platform/clickhouse/migrator';
import { describeKafkaSecurityError, KafkaSecurityError } from './platform/kafka/kafka-connection';
import { ROLES, Role, serve } from './serve';

const ROOT = join(__dirname, '..');

function config() {
  try {
    return loadConfig();
  } catch (e) {
    if (e instanceof ConfigurationError) {
      process.stderr.write(`gpumeter: ${e.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw e;
  }
}

const program = new Command('gpumeter').description('Usage metering and billing for serverless GPU clouds');

program
  .command('serve')
  .description('run the service')
  .addOption(new Option('--role <role>', 'which parts run').choices(ROLES).default('all'))
  .action(async (opts: { role: Role }) => {
    await serve(config(), opts.role);
  });

program
  .command('invoice')
  .description('invoicing')
  .command('run')
  .description('invoice every workspace for a calendar month (UTC); safe to repeat and to kill')
  .requiredOption('--period <YYYY-MM>', 'the month')
  .option('--threshold', "draw up the month's threshold invoices now due (mid-month billing) instead", false)
  .action(async (o: { period: string; threshold: boolean }) => {
    process.exitCode = await invoiceRunCommand(config(), o.period, o.threshold ? 'threshold' : 'month_end');
  });

program
  .command('replay')
  .description('rebuild every ClickHouse projection from Kafka into a new database (never the live one)')
  .option('--database <name>', 'the database to build (default <CLICKHOUSE_DATABASE>_replay_<timestamp>)')
  .action(async (o: { database?: string }) => {
    config(); // configuration errors are reported as for every command
    process.exitCode = await replayCommand(process.env, ROOT, o.database, (l) =>
      process.stdout.write(`${l}\n`),
    );
  });

program
  .command('retention')
  .description('raw event retention')
  .command('run')
  .description(
    "drop closed months' raw usage events RAW_EVENT_RETENTION_DAYS after they end, keeping what readers need; safe to repeat and to kill",
  )
  .option('--dry-run', 'say what would be done, change nothing', false)
  .action(async (o: { dryRun: boolean }) => {
    process.exitCode = await retentionCommand(config(), o.dryRun, (l) => process.stdout.write(`${l}\n`));
  });

program
  .command('migrate')
  .description('apply the numbered SQL migrations to ClickHouse (idempotent)')
  .action(async () => {
    const cfg = config();
    const result = await migrate(cfg, join(ROOT, 'migrations'), (line) => process.stdout.write(`${line}\n`));
    process.stdout.write(
      `database ${cfg.CLICKHOUSE_DATABASE}: ${result.applied.length} applied, ${result.skipped.length} already there\n`,
    );
  });

program
  .command('simulate')
  .description('drive a synthetic GPU workload through a running gpumeter and print what it billed')
  .option('--url <url>', 'gpumeter base URL', 'http://127.0.0.1:3000')
  .option('--workspaces <n>', 'workspaces', '4')
  .option('--containers <n>', 'containers per workspace', '12')
  .option('--hours <n>', 'how far back the containers may have run', '3')
  .option('--seed <n>', 'random seed', '1')
  .addOption(
    new Option('--month <which>', 'the workload runs in this month')
      .choices(['current', 'last'])
      .default('current'),
  )
  .option('--invoice', "then invoice the workload's month and print the invoices", false)
  .action(async (o: Record<string, string | boolean>) => {
    const cfg = config();
    if (!cfg.ADMIN_API_KEY || cfg.INGEST_TOKENS.length === 0) {
      throw new Error('simulate needs ADMIN_API_KEY and INGEST_TOKENS, as the service it talks to');
    }
    const ok = await simulate(
      {
        url: String(o.url),
        adminKey: cfg.ADMIN_API_KEY,
        ingestToken: cfg.INGEST_TOKENS[0],
        workspaces: Number(o.workspaces),
        containers: Number(o.containers),
        hours: Number(o.hours),
        seed: Number(o.seed),
        month: o.month as 'current' | 'last',
        invoice: Boolean(o.invoice),
      },
      (line) => process.stdout.write(`${line}\n`),
    );
    process.exitCode = ok ? 0 : 1;
  });

program
  .command('agent')
  .description('the worker agent: GPU interval events to Kafka (or POST /v1/events), spooled, never lost')
  .option('--simulate', 'drive a seedable synthetic GPU workload', false)
  .option(
    '--labels <dir>',
    "without --simulate: the runtime's container label files",
    '/run/gpumeter/containers',
  )
  .option('--seed <n>', 'simulation seed', '1')
  .option('--workspaces <n>', 'simulated workspaces', '3')
  .option('--containers <n>', 'simulated container slots', '10')
  .option('--duration <d>', 'how long to run (real time), e.g. 60s, 5m', '60s')
  .option('--speed <k>', 'simulated seconds per real second', '1')
  .option('--spool <dir>', 'the durable spool folder', '.local/agent-spool')
  .option('--interval <d>', 'length of one usage interval', '10s')
  .option('--via <how>', 'kafka or http (default: http when --url is given, else kafka)')
  .option('--url <url>', 'gpumeter base URL for --via http (default http://127.0.0.1:3000)')
  .option('--name <source>', 'CloudEvents source of this agent', defaultAgentName())
  .option('--tick <d>', 'how often to read the usage source (real time)', '1s')
  .option('--spool-max <bytes>', 'disk bound of the spool', String(1024 * 1024 * 1024))
  .option('--drain <d>', 'at shutdown, how long to keep delivering the spool', '30s')
  .option('--status-port <port>', 'serve /status (JSON) and /metrics on this loopback port')
  .action(async (o: Record<string, string | boolean>) => {
    const cfg = config();
    const { via, url } = agentTransport(o.via, o.url);
    const num = (name: string, v: unknown, min: number) => {
      const n = Number(v);
      if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number ≥ ${min}`);
      return n;
    };
    await runAgent(cfg, {
      simulate: Boolean(o.simulate),
      labels: String(o.labels),
      seed: num('seed', o.seed, 0),
      workspaces: num('workspaces', o.workspaces, 1),
      containers: num('containers', o.containers, 1),
      durationMs: parseDuration(String(o.duration)),
      speed: num('speed', o.speed, 0.001),
      spool: String(o.spool),
      intervalMs: parseDuration(String(o.interval)),
      via,
      url,
      name: String(o.name),
      tickMs: parseDuration(String(o.tick)),
      spoolMaxBytes: num('spool-max', o.spoolMax, 1024 * 1024),
      drainMs: parseDuration(String(o.drain)),
      statusPort: o.statusPort === undefined ? undefined : num('status-port', o.statusPort, 1),
    });
  });

program
  .command('stack')
  .description('the local Kafka and ClickHouse: up | down | status [service...]')
  .argument('<action>', 'up, down, status or install')
  .argument('[services...]', 'kafka, clickhouse, … or cluster (default: all but the cluster)')
  .option('--cluster', 'the local ClickHouse cluster (ZooKeeper and three servers), as the service `cluster`')
  .action((action: string, services: string[], o: { cluster?: boolean }) => {
    const names = o.cluster && !services.includes('cluster') ? [...services, 'cluster'] : services;
    const r = spawnSync('bash', [join(ROOT, 'stack', 'stack.sh'), action, ...names], { stdio: 'inherit' });
    process.exitCode = r.status ?? 1;
  });

program.parseAsync(process.argv).catch((e: unknown) => {
  // Refused TLS or credentials are configuration, told as such (exit 78 like any bad setting).
  const security = e instanceof KafkaSecurityError ? e.message : describeKafkaSecurityError(e);
  if (security !== null) {
    process.stderr.write(`gpumeter: ${security}\n`);
    process.exit(78);
  }
  process.stderr.write(`gpumeter: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
