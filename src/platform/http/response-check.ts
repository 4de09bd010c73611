import { Logger } from '@nestjs/common';
import type { OpenAPIObject } from '@nestjs/swagger';
import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import type { NextFunction, Request, Response } from 'express';

type Schema = Record<string, unknown>;

/**
 * OpenAPI 3.0 schemas as JSON Schema that is stricter than the document: `nullable` becomes
 * "or null", and an object that lists its properties allows no other (a field the document
 * does not name is a mismatch, so the document cannot fall behind the code).
 */
function strict(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(strict);
  if (node === null || typeof node !== 'object') return node;
  const out: Schema = {};
  for (const [k, v] of Object.entries(node)) out[k] = k === 'properties' ? mapValues(v as Schema) : strict(v);
  if (out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  if (out.nullable === true) {
    delete out.nullable;
    return { anyOf: [out, { type: 'null' }] };
  }
  return out;
}
const mapValues = (o: Schema): Schema =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k, strict(v)]));

/** The first difference, naming the field: `body/lines/0/quantity must be string`. */
function describe(errors: ErrorObject[]): string {
  const [e] = errors;
  if (!e) return 'invalid';
  const where = `body${e.instancePath}`;
  const extra = (e.params as { additionalProperty?: string }).additionalProperty;
  return extra === undefined
    ? `${where} ${e.message}`
    : `${where} has ${extra}, which the schema does not name`;
}

/** Express's route path (`/v1/workspaces/:id`) as the document's (`/v1/workspaces/{id}`). */
const openApiPath = (path: string) => path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/**
 * Checks every JSON answer of a 2xx status against the schema the OpenAPI document declares
 * for its route and status (OPENAPI_RESPONSE_CHECK, for the test suite): a mismatch is
 * logged and answered 500 naming the route and the first field that differs, so the test
 * that called it fails. Answers of routes the document leaves out (health pages, the
 * dashboard's files) and non-JSON answers (exports, metrics) pass unchecked.
 */
export function checkResponsesAgainst(document: OpenAPIObject) {
  const logger = new Logger('OpenApiResponseCheck');
  const ajv = new Ajv({ strict: false, allErrors: false, validateFormats: false });
  ajv.addSchema({ components: strict(document.components ?? {}) }, 'openapi');
  const rewriteRefs = (s: unknown): unknown =>
    JSON.parse(JSON.stringify(s).replace(/"#\/components\//g, '"openapi#/components/'));
  const compiled = new Map<string, ValidateFunction | null>();
  const validatorFor = (method: string, path: string, status: number): ValidateFunction | null => {
    const key = `${method} ${path} ${status}`;
    if (!compiled.has(key)) {
      const op = (
        document.paths[path] as Record<string, { responses?: Record<string, unknown> }> | undefined
      )?.[method];
      const response = op?.responses?.[String(status)] as
        { content?: Record<string, { schema?: unknown }> } | undefined;
      const schema = response?.content?.['application/json']?.schema;
      compiled.set(key, schema === undefined ? null : ajv.compile(rewriteRefs(strict(schema)) as Schema));
    }
    return compiled.get(key)!;
  };
  return (req: Request, res: Response, next: NextFunction) => {
    const json = res.json.bind(res);
    res.json = (body: unknown) => {
      const route = (req.route as { path?: string } | undefined)?.path;
      if (route === undefined || res.statusCode < 200 || res.statusCode >= 300) return json(body);
      const path = openApiPath(`${req.baseUrl}${route}`);
      const method = req.method.toLowerCase();
      const known = (document.paths[path] as Record<string, unknown> | undefined)?.[method] !== undefined;
      const validate = known ? validatorFor(method, path, res.statusCode) : null;
      if (!known) return json(body);
      const problem =
        validate === null
          ? `no JSON schema is declared for ${res.statusCode}`
          : validate(body)
            ? null
            : describe(validate.errors ?? []);
      if (problem === null) return json(body);
      const message = `${req.method} ${path}: the answer does not match its OpenAPI schema: ${problem}`;
      logger.error(message);
      res.status(500);
      return json({ error: { code: 'internal', message, details: [] } });
    };
    next();
  };
}
