import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { appModule } from '../app.module';
import { AppConfig } from '../app-config';
import { BillingPeriod } from '../invoicing/billing-period';
import { InvoiceRunMode } from '../invoicing/invoice-events';
import { InvoiceRunService } from '../invoicing/invoice-run.service';
import { KafkaAdmin } from '../platform/kafka/kafka-admin';
import { clockFor } from '../platform/clock';

/**
 * `gpumeter invoice run --period YYYY-MM [--threshold]`: one invoice run in this process, to
 * the end (with --threshold: the threshold invoices now due in that month). Prints the run's
 * final state as JSON; exits 0 when it completed, 1 when it did not (run it again: runs are
 * safe to repeat), 2 when the period cannot be run.
 */
export async function invoiceRunCommand(
  config: AppConfig,
  periodText: string,
  mode: InvoiceRunMode = 'month_end',
): Promise<number> {
  const period = BillingPeriod.parse(periodText);
  if (!period) {
    process.stderr.write(`--period must be ${BillingPeriod.RULE}, got "${periodText}"\n`);
    return 2;
  }
  if (mode === 'month_end' && !period.hasEnded(clockFor(config).now())) {
    process.stderr.write(`--period must be a month that has ended, got ${period.toString()}\n`);
    return 2;
  }
  const app = await NestFactory.createApplicationContext(appModule(config), { bufferLogs: true });
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();
  try {
    await app.get(KafkaAdmin).ensureTopics();
    const runs = app.get(InvoiceRunService);
    if (mode === 'threshold' && !runs.thresholdBillable(period)) {
      process.stderr.write(
        `--period ${period.toString()}: threshold invoices are drawn up from a month's start until shortly before it may be finalized\n`,
      );
      return 2;
    }
    const state = await runs.start(period, 'cli', mode).done;
    process.stdout.write(`${JSON.stringify(state)}\n`);
    return state.status === 'completed' ? 0 : 1;
  } finally {
    await app.close();
  }
}
