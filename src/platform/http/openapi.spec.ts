import SwaggerParser from '@apidevtools/swagger-parser';
import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { OpenAPIObject } from '@nestjs/swagger';
import { appModule } from '../../app.module';
import { loadConfig } from '../../app-config';
import { openApiDocument } from './openapi';
import { checkResponsesAgainst } from './response-check';

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

/**
 * The OpenAPI document as /docs serves it, built from the real controllers (Nest's preview
 * mode: modules are scanned, no provider is created, nothing connects anywhere).
 */
async function document(): Promise<OpenAPIObject> {
  const app: INestApplication = await NestFactory.create(appModule(loadConfig({ GPUMETER_ENV: 'test' })), {
    preview: true,
    logger: false,
  });
  try {
    return openApiDocument(app);
  } finally {
    await app.close();
  }
}

describe('OpenAPI document (issue 11)', () => {
  let doc: OpenAPIObject;
  beforeAll(async () => {
    doc = await document();
  });

  const operations = () =>
    Object.entries(doc.paths).flatMap(([path, item]) =>
      METHODS.filter((m) => item[m]).map((m) => ({ route: `${m.toUpperCase()} ${path}`, op: item[m]! })),
    );

  it('declares the schema of a 2xx answer for every route (204: no body)', () => {
    const routes = operations();
    expect(routes.length).toBeGreaterThanOrEqual(36);
    const missing: string[] = [];
    for (const { route, op } of routes) {
      const ok = Object.entries(op.responses).filter(([status]) => /^2\d\d$/.test(status));
      if (ok.length === 0) missing.push(`${route}: no 2xx answer`);
      for (const [status, response] of ok) {
        if (status === '204') continue;
        const content = response && 'content' in response ? response.content : undefined;
        const schemas = Object.values(content ?? {}).map((c) => c.schema);
        if (schemas.length === 0 || schemas.some((s) => s === undefined))
          missing.push(`${route}: ${status} without a schema`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('names every property of every response schema it refers to (no empty object)', () => {
    const empty = Object.entries(doc.components?.schemas ?? {}).filter(
      ([, s]) => 'type' in s && s.type === 'object' && !s.properties && !s.additionalProperties,
    );
    expect(empty.map(([name]) => name)).toEqual([]);
  });

  it('is a valid OpenAPI 3 document (@apidevtools/swagger-parser)', async () => {
    // validate() dereferences in place: give it a copy.
    const checked = await SwaggerParser.validate(structuredClone(doc) as never);
    expect((checked as { openapi?: string }).openapi).toMatch(/^3\./);
  });

  it('fails validation on a broken document (the validator is not a rubber stamp)', async () => {
    const broken = structuredClone(doc);
    const first = Object.values(broken.paths)[0];
    (first.get as unknown as { responses: unknown }).responses = 'not an object';
    await expect(SwaggerParser.validate(broken as never)).rejects.toThrow();
  });

  describe('OPENAPI_RESPONSE_CHECK: answers checked against the document', () => {
    /** One answer through the check, as Express would send it; returns what went out. */
    function answer(method: string, route: string, status: number, body: unknown) {
      const sent: { status: number; body?: unknown } = { status };
      const res = {
        statusCode: status,
        status(code: number) {
          this.statusCode = code;
          sent.status = code;
          return this;
        },
        json(b: unknown) {
          sent.body = b;
          return this;
        },
      };
      const req = { method, baseUrl: '', route: { path: route } };
      checkResponsesAgainst(doc)(req as never, res as never, () => undefined);
      res.json(body);
      return sent;
    }

    it('passes an answer that matches its schema', () => {
      expect(answer('GET', '/v1/me', 200, { kind: 'workspace', workspace_id: 'acme' })).toEqual({
        status: 200,
        body: { kind: 'workspace', workspace_id: 'acme' },
      });
      expect(
        answer('GET', '/v1/workspaces/:id/allowance', 200, {
          workspace_id: 'acme',
          allowed: true,
          period: '2026-12',
          monthly_limit: null,
          enforced: false,
          as_of: '2026-12-01T00:00:00.000Z',
        }).status,
      ).toBe(200);
    });

    it('turns a field the document does not name, a wrong type or a missing field into a 500 naming it', () => {
      const extra = answer('GET', '/v1/me', 200, { kind: 'operator', secret: 'x' });
      expect(extra.status).toBe(500);
      expect(JSON.stringify(extra.body)).toMatch(
        /GET \/v1\/me: .*body has secret, which the schema does not name/,
      );
      expect(answer('GET', '/v1/me', 200, { kind: 'robot' }).status).toBe(500);
      const missing = answer('GET', '/v1/workspaces/:id/allowance', 200, {
        workspace_id: 'acme',
        allowed: true,
      });
      expect(JSON.stringify(missing.body)).toMatch(/body must have required property 'period'/);
    });

    it('leaves errors, and routes the document leaves out, alone', () => {
      expect(answer('GET', '/v1/me', 404, { error: { code: 'not_found' } }).status).toBe(404);
      expect(answer('GET', '/healthz-not-documented', 200, { anything: true }).status).toBe(200);
    });
  });
});
