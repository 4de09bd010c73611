import createClient, { type Client } from 'openapi-fetch';
import type { components, paths } from './schema';

/**
 * The typed client of gpumeter's HTTP API, on the types generated from the service's own
 * OpenAPI document (schema.ts, kept current by `scripts/api-client.mjs --check` in CI): a
 * path, its query and body, and its answer are checked by the compiler. Used by the
 * dashboard (in the browser), the CLI and the agent's HTTP sender.
 */
export type GpumeterClient = Client<paths>;
export type Schemas = components['schemas'];

export function gpumeterClient(options: {
  /** The service's origin (the dashboard: '' for its own). */
  baseUrl: string;
  /** A bearer token: a workspace key, the operator key or an agent token. */
  token?: string;
  fetch?: typeof globalThis.fetch;
}): GpumeterClient {
  return createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/$/, ''),
    headers: options.token === undefined ? {} : { authorization: `Bearer ${options.token}` },
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
}

/** An answer that is not 2xx, with the API's message (`error.message`) when it has one. */
export class ApiCallError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    what: string,
  ) {
    const message = (body as { error?: { message?: string } } | undefined)?.error?.message;
    super(`${what}: HTTP ${status}${message ? ` ${message}` : ''}`);
  }
}

/** The data of an answer, or ApiCallError naming `what` was asked. */
export function dataOf<T>(answer: { data?: T; error?: unknown; response: Response }, what: string): T {
  if (answer.response.ok && answer.data !== undefined) return answer.data;
  throw new ApiCallError(answer.response.status, answer.error, what);
}

/**
 * Every invoice GET /v1/invoices lists for the token, page by page (`starting_after`), so
 * that nothing past the first 100 is cut off.
 */
export async function allInvoices(
  client: GpumeterClient,
  query: { period?: string; workspace_id?: string } = {},
): Promise<Schemas['InvoiceResponse'][]> {
  const out: Schemas['InvoiceResponse'][] = [];
  let after: string | undefined;
  for (;;) {
    const page = dataOf(
      await client.GET('/v1/invoices', {
        params: { query: { ...query, limit: 100, ...(after ? { starting_after: after } : {}) } },
      }),
      'GET /v1/invoices',
    );
    out.push(...page.invoices);
    if (!page.has_more || page.invoices.length === 0) return out;
    after = page.invoices[page.invoices.length - 1].id;
  }
}
