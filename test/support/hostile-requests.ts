import fc from 'fast-check';

/**
 * Hostile HTTP requests to every route of the API, as fast-check arbitraries: odd paths and
 * path parameters, repeated and bracketed query parameters, bodies of arbitrary JSON, bytes,
 * deep nesting, lone surrogates and prototype keys, odd content types, and every kind of
 * token (none, garbage, operator, agent, workspace). Used by the integration test (no 5xx)
 * and by `npm run bench:hostile` (how fast every answer comes).
 */
export interface HostileRequest {
  /** The route it aims at, e.g. `PUT /v1/workspaces/{ws}/budget`. */
  route: string;
  method: string;
  path: string;
  token: 'none' | 'garbage' | 'operator' | 'agent' | 'workspace';
  contentType: string | null;
  body: string | Buffer | null;
}

export const ROUTES: Array<[string, string]> = [
  ['POST', '/v1/events'],
  ['POST', '/v1/workspaces'],
  ['GET', '/v1/workspaces/{ws}'],
  ['PUT', '/v1/workspaces/{ws}/budget'],
  ['PUT', '/v1/workspaces/{ws}/plan'],
  ['GET', '/v1/me'],
  ['GET', '/v1/catalog'],
  ['POST', '/v1/catalog/price-changes'],
  ['POST', '/v1/catalog/plan-changes'],
  ['GET', '/v1/usage'],
  ['GET', '/v1/invoices'],
  ['GET', '/v1/invoices/upcoming'],
  ['GET', '/v1/invoices/{id}'],
  ['GET', '/v1/spend/current'],
  ['POST', '/v1/invoice-runs'],
  ['GET', '/v1/invoice-runs/{id}'],
  ['GET', '/v1/exports/usage'],
  ['GET', '/v1/exports/invoices'],
  ['GET', '/v1/reconciliation'],
  ['GET', '/v1/workspaces/{ws}/allowance'],
  ['POST', '/v1/workspaces/{ws}/keys'],
  ['GET', '/v1/workspaces/{ws}/keys'],
  ['DELETE', '/v1/workspaces/{ws}/keys/{id}'],
  ['POST', '/v1/agent-tokens'],
  ['GET', '/v1/agent-tokens'],
  ['DELETE', '/v1/agent-tokens/{id}'],
  ['POST', '/v1/webhook-endpoints'],
  ['GET', '/v1/webhook-endpoints'],
  ['POST', '/v1/webhook-endpoints/{id}/rotate-secret'],
  ['GET', '/metrics'],
  ['POST', '/v1/stripe/webhooks'],
  ['GET', '/'],
  ['GET', '/healthz'],
];

const PARAM_NAMES = [
  'workspace_id',
  'period',
  'from',
  'to',
  'window',
  'group_by',
  'format',
  'at',
  'stripe',
  'limit',
  'starting_after',
  '__proto__',
  'constructor',
  'a[b]',
];

const hostileString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constantFrom(
    '',
    ' ',
    '0000-01',
    '9999-12',
    '2026-11',
    '2026-11-01T00:00:00Z',
    '2026-11-01T07:23:17.501Z',
    '9999-01-01T00:00:00Z',
    "'; DROP TABLE workspaces; --",
    '\\',
    '%00',
    '%ED%A0%80',
    '..%2F..%2Fetc',
    'ws_hostile',
    'x'.repeat(300),
    'true',
    'csv',
    'jsonl',
    'day',
  ),
);

const pathValue = fc.oneof(
  fc.constantFrom(
    'ws_hostile',
    'nope',
    'inv_2026-11_ws_hostile',
    'run_x',
    '%ED%A0%80',
    '%ZZ',
    '..',
    '%2e%2e',
    'a%2Fb',
    'x'.repeat(500),
  ),
  fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 20 }).map(encodeURIComponent),
);

const query = fc
  .array(fc.tuple(fc.constantFrom(...PARAM_NAMES), hostileString), { maxLength: 4 })
  .map((pairs) =>
    pairs.length === 0
      ? ''
      : `?${pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}`,
  );

/** JSON text with a lone surrogate or prototype key planted in an object. */
const plantedJson = fc
  .tuple(
    fc.dictionary(
      fc.constantFrom(
        ...PARAM_NAMES,
        'id',
        'name',
        'email',
        'plan',
        'monthly_limit',
        'thresholds',
        'effective_from',
        'gpu_per_second',
      ),
      hostileString,
      { maxKeys: 5 },
    ),
    fc.constantFrom(
      '"\\ud800"',
      '"x\\udc00y"',
      '{"__proto__":{"admin":true}}',
      '{"constructor":{"prototype":{}}}',
      '['.repeat(3000) + ']'.repeat(3000),
    ),
  )
  .map(([obj, planted]) => JSON.stringify({ ...obj, planted: '@@' }).replace('"@@"', planted));

const body = fc.oneof(
  fc.constant(null),
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? 'null'),
  plantedJson,
  fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b)),
  fc.constantFrom(
    '{',
    '{"a":',
    '[1,2',
    '\u0000',
    '{"id":"ws_fuzz","name":"n","email":"a@b.test"}',
    '{"period":"2026-11"}',
    '{"monthly_limit":"5.00"}',
    // Duplicate keys (JSON.parse keeps the last), huge and odd numbers, NUL bytes.
    '{"id":"ws_fuzz","id":"ws_other","name":"n","email":"a@b.test"}',
    '{"monthly_limit":"5.00","monthly_limit":5}',
    '{"name":"n","sources":["agent://a"],"sources":"agent://b"}',
    '{"monthly_limit":1e400,"thresholds":[1e308,-0,123456789012345678901234567890]}',
    '{"limit":-1,"gpu_per_second":{"H100":"0.0000000000000000000000000001"}}',
    '{"name":"a\u0000b","email":"\u0000@x.test"}',
    `{"name":"${'é'.repeat(5000)}","sources":["${'😀'.repeat(300)}"]}`,
  ),
  // Bytes that are not UTF-8 inside otherwise valid JSON.
  fc.constantFrom(
    Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xc3, 0x28, 0xff, 0xfe]), Buffer.from('"}')]),
    Buffer.concat([
      Buffer.from('{"id":"'),
      Buffer.from([0xed, 0xa0, 0x80]),
      Buffer.from('","name":"x","email":"a@b.test"}'),
    ]),
  ),
);

export const hostileRequest: fc.Arbitrary<HostileRequest> = fc
  .tuple(
    fc.constantFrom(...ROUTES),
    fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', null),
    pathValue,
    query,
    fc.constantFrom<HostileRequest['token']>('none', 'garbage', 'operator', 'agent', 'workspace'),
    fc.constantFrom(
      'application/json',
      'application/cloudevents-batch+json',
      'text/plain',
      'application/json; charset=latin1',
      null,
    ),
    body,
  )
  .map(([[method, template], otherMethod, value, q, token, contentType, b]) => ({
    route: `${method} ${template}`,
    method: otherMethod ?? method,
    path: template.replace(/\{[a-z]+\}/, value) + q,
    token,
    contentType,
    body: (otherMethod ?? method) === 'GET' ? null : b,
  }));

/** Sends one hostile request; resolves with the status (or 'no answer'/'error') and how long it took. */
export async function send(
  baseUrl: string,
  r: HostileRequest,
  tokens: Record<HostileRequest['token'], string | null>,
): Promise<{
  status: number;
  ms: number;
  error?: { code?: string; message: string; details?: Array<{ field: string }> };
}> {
  const headers: Record<string, string> = {};
  const token = tokens[r.token];
  if (token) headers.authorization = `Bearer ${token}`;
  if (r.contentType) headers['content-type'] = r.contentType;
  const started = performance.now();
  const res = await fetch(`${baseUrl}${r.path}`, {
    method: r.method,
    headers,
    body: r.body === null ? undefined : typeof r.body === 'string' ? r.body : new Uint8Array(r.body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  const ms = performance.now() - started;
  let error: { code?: string; message: string; details?: Array<{ field: string }> } | undefined;
  if (res.status >= 400) {
    try {
      error = (JSON.parse(text) as { error?: typeof error }).error;
    } catch {
      /* not our JSON error shape (e.g. the dashboard's 404 page) */
    }
  }
  return { status: res.status, ms, error };
}
