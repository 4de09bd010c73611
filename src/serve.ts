import { createServer } from 'node:http';
import { Logger as NestLogger } from '@nestjs/common';
import type { Request } from 'express';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { SwaggerModule } from '@nestjs/swagger';
import { openApiDocument } from './platform/http/openapi';
import { checkResponsesAgainst } from './platform/http/response-check';
import { Logger } from 'nestjs-pino';
import { appModule } from './app.module';
import { AppConfig } from './app-config';
import { InvoiceScheduler } from './invoicing/invoice-scheduler.service';
import { RetentionScheduler } from './retention/retention-scheduler.service';
import { UsageConsumerService } from './metering/usage-consumer.service';
import { BillingEventsConsumer } from './platform/billing-events/billing-events-consumer.service';
import { apiValidationPipe } from './platform/errors/validation.pipe';
import { KafkaAdmin } from './platform/kafka/kafka-admin';
import { kafkaConnection, probeKafkaSecurity } from './platform/kafka/kafka-connection';
import {
  authenticateFirst,
  guardOperationsPages,
  jsonBodyOptions,
  refuseOversizedBody,
  refuseRepeatedQueryParameters,
} from './platform/http/http-edge';
import { CredentialStore } from './auth/credential-store.service';
import { AuthFailureLimiter } from './auth/rate-limits';
import { ApiError, ApiErrorCode } from './common/api-error';
import { WebhookDispatcher } from './webhooks/webhook-dispatcher.service';
import { AllowanceService } from './budgets/allowance.service';
import { BudgetAlertEvaluator } from './budgets/budget-alert-evaluator.service';

export type Role = 'api' | 'consumer' | 'worker' | 'all';
export const ROLES: readonly Role[] = ['api', 'consumer', 'worker', 'all'];

/**
 * Starts the service. Every role serves /healthz, /readyz and /metrics on PORT; `api` also
 * takes the /v1 routes' traffic, `consumer` runs the Kafka consumers, `worker` runs the
 * invoice scheduler, `all` does everything.
 */
export async function serve(config: AppConfig, role: Role): Promise<NestExpressApplication> {
  await probeKafkaSecurity(kafkaConnection(config), config.KAFKA_CLIENT_ID);
  // The body parser is ours (http-edge.ts): it runs after authentication and keeps the raw body.
  const app = await NestFactory.create<NestExpressApplication>(appModule(config), {
    bufferLogs: true,
    bodyParser: false,
  });
  app.useLogger(app.get(Logger));
  const credentials = app.get(CredentialStore);
  const failures = app.get(AuthFailureLimiter);
  const authenticate = async (req: Request) => {
    try {
      return credentials.authenticate(req.headers.authorization);
    } catch (e) {
      if (e instanceof ApiError && e.code === ApiErrorCode.Unauthenticated) await failures.failed(req);
      throw e;
    }
  };
  if (config.TRUST_PROXY > 0) app.set('trust proxy', config.TRUST_PROXY);
  app.use(guardOperationsPages(config.METRICS_PORT, authenticate));
  app.use(authenticateFirst(authenticate));
  app.use(refuseOversizedBody());
  app.use(refuseRepeatedQueryParameters());
  app.useBodyParser(
    'json',
    jsonBodyOptions([
      'application/json',
      'application/cloudevents+json',
      'application/cloudevents-batch+json',
    ]),
  );
  app.useGlobalPipes(apiValidationPipe());
  app.enableShutdownHooks();
  SwaggerModule.setup('docs', app, () => openApiDocument(app));
  if (config.OPENAPI_RESPONSE_CHECK === 'true') app.use(checkResponsesAgainst(openApiDocument(app)));

  await app.get(KafkaAdmin).ensureTopics();
  if (role === 'consumer' || role === 'all') {
    await app.get(UsageConsumerService).start();
    await app.get(BillingEventsConsumer).startConsumer();
    app.get(BudgetAlertEvaluator).start();
  }
  if (role === 'api' || role === 'all') {
    await credentials.start();
    await app.get(AllowanceService).start();
  }
  if (role === 'worker' || role === 'all') {
    app.get(InvoiceScheduler).start();
    app.get(RetentionScheduler).start();
    await app.get(WebhookDispatcher).start();
  }
  await app.listen(config.PORT, config.HOST);
  const logger = new NestLogger('gpumeter');
  logger.log(`role ${role} listening on http://${config.HOST}:${config.PORT}`);
  if (config.METRICS_PORT !== undefined) {
    // The same application on a second port; guardOperationsPages decides what each serves.
    const operations = createServer(app.getHttpAdapter().getInstance());
    await new Promise<void>((resolve, reject) =>
      operations.once('error', reject).listen(config.METRICS_PORT, config.HOST, resolve),
    );
    app.getHttpServer().once('close', () => operations.close());
    logger.log(`/metrics and /docs on http://${config.HOST}:${config.METRICS_PORT}`);
  }
  return app;
}
