import 'reflect-metadata';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { ConfigurationError, loadConfig } from './config/app-config';
import { simulate } from './cli/simulate';
import { migrate } from './platform/clickhouse/migrator';
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
  .action(async (o: Record<string, string>) => {
    const cfg = config();
    if (!cfg.ADMIN_API_KEY || cfg.INGEST_TOKENS.length === 0) {
      throw new Error('simulate needs ADMIN_API_KEY and INGEST_TOKENS, as the service it talks to');
    }
    const ok = await simulate(
      {
        url: o.url,
        adminKey: cfg.ADMIN_API_KEY,
        ingestToken: cfg.INGEST_TOKENS[0],
        workspaces: Number(o.workspaces),
        containers: Number(o.containers),
        hours: Number(o.hours),
        seed: Number(o.seed),
      },
      (line) => process.stdout.write(`${line}\n`),
    );
    process.exitCode = ok ? 0 : 1;
  });

program
  .command('stack')
  .description('the local Kafka and ClickHouse: up | down | status [service...]')
  .argument('<action>', 'up, down, status or install')
  .argument('[services...]', 'kafka, clickhouse (default: all)')
  .action((action: string, services: string[]) => {
    const r = spawnSync('bash', [join(ROOT, 'stack', 'stack.sh'), action, ...services], { stdio: 'inherit' });
    process.exitCode = r.status ?? 1;
  });

program.parseAsync(process.argv).catch((e: unknown) => {
  process.stderr.write(`gpumeter: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
