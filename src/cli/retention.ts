import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { appModule } from '../app.module';
import { AppConfig } from '../app-config';
import { RetentionService } from '../retention/retention.service';

/**
 * `gpumeter retention run [--dry-run]`: one raw event retention run (the worker role runs it
 * hourly). Prints one JSON line per closed month: what was done, or why not. Exits 0 unless
 * a month was refused (1) or RAW_EVENT_RETENTION_DAYS is unset (2).
 */
export async function retentionCommand(
  config: AppConfig,
  dryRun: boolean,
  print: (line: string) => void,
): Promise<number> {
  if (config.RAW_EVENT_RETENTION_DAYS === undefined) {
    print('RAW_EVENT_RETENTION_DAYS is not set: raw usage events are kept for ever');
    return 2;
  }
  const app = await NestFactory.createApplicationContext(appModule(config), { bufferLogs: true });
  app.useLogger(app.get(Logger));
  try {
    const outcomes = await app.get(RetentionService).run({ dryRun });
    for (const o of outcomes) print(JSON.stringify(o));
    return outcomes.some((o) => o.outcome === 'refused') ? 1 : 0;
  } finally {
    await app.close();
  }
}
