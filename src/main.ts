import 'reflect-metadata';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { ConfigurationError, loadConfig } from './config/app-config';
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
  .addOption(new Option('--role <role>', 'which parts run').choices(ROLES as string[]).default('all'))
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
