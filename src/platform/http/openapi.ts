import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';

/**
 * The OpenAPI 3 document of the HTTP API, served at /docs (and /docs-json), built from the
 * controllers' decorators: request DTOs, and for every route the schema of its 2xx answer
 * (src/platform/http/openapi.spec.ts fails on a route without one, and validates the
 * document as OpenAPI 3).
 */
export function openApiDocument(app: INestApplication): OpenAPIObject {
  const info = new DocumentBuilder()
    .setTitle('gpumeter')
    .setDescription('Usage metering and billing for serverless GPU clouds')
    .setVersion('1')
    .addBearerAuth()
    .build();
  return SwaggerModule.createDocument(app, info);
}
