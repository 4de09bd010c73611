import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import { AppConfig, slicesOf } from './app-config';
import { ConfigModule } from './config/config.module';
import { AuthModule } from './auth/auth.module';
import { CatalogModule } from './catalog/catalog.module';
import { DashboardModule } from './dashboard/dashboard.module';
import { ExportsModule } from './exports/exports.module';
import { ReportsModule } from './reports/reports.module';
import { ReconciliationModule } from './reconciliation/reconciliation.module';
import { RetentionModule } from './retention/retention.module';
import { IngestionModule } from './ingestion/ingestion.module';
import { InvoicingModule } from './invoicing/invoicing.module';
import { MeteringModule } from './metering/metering.module';
import { BillingEventsModule } from './platform/billing-events/billing-events.module';
import { ApiExceptionFilter } from './platform/errors/api-exception.filter';
import { HealthController } from './platform/health/health.controller';
import { PlatformModule } from './platform/platform.module';
import { StripeModule } from './stripe/stripe.module';
import { WorkspacesModule } from './workspaces/workspaces.module';
import { WebhooksModule } from './webhooks/webhooks.module';
import { BudgetsModule } from './budgets/budgets.module';

/** The whole service; `serve --role` decides which parts run (see main.ts). */
export function appModule(config: AppConfig) {
  @Module({
    imports: [
      ConfigModule.forRoot(slicesOf(config)),
      LoggerModule.forRoot({
        pinoHttp: {
          level: config.LOG_LEVEL,
          // Tokens never reach a log line.
          redact: {
            paths: ['req.headers.authorization', 'req.headers["stripe-signature"]'],
            censor: '[redacted]',
          },
          autoLogging: { ignore: (req) => ['/healthz', '/readyz', '/metrics'].includes(req.url ?? '') },
          quietReqLogger: true,
        },
      }),
      PlatformModule,
      BillingEventsModule,
      AuthModule,
      WorkspacesModule,
      IngestionModule,
      MeteringModule,
      CatalogModule,
      InvoicingModule,
      StripeModule,
      ExportsModule,
      ReportsModule,
      ReconciliationModule,
      RetentionModule,
      BudgetsModule,
      WebhooksModule,
      DashboardModule,
    ],
    controllers: [HealthController],
    providers: [{ provide: APP_FILTER, useClass: ApiExceptionFilter }],
  })
  class AppModule {}
  return AppModule;
}
