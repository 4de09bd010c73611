import fc from 'fast-check';
import { sampleUsageEvent } from '../../src/ingestion/usage-event/usage-event.fixtures';

/**
 * Records a hostile producer can write straight to a topic, as fast-check arbitraries:
 * arbitrary bytes, arbitrary JSON, prototype-chain keys in every position of an otherwise
 * valid event, nesting 10,000 deep, lone surrogates in every string field. Used by the unit
 * tests of the decoders and by the integration test that writes them to the real topics.
 */

const PROTO_KEYS = ['__proto__', 'constructor', 'prototype'] as const;
const EVENT_PATHS = [
  [],
  ['data'],
  ['id'],
  ['source'],
  ['subject'],
  ['data', 'gpu_count'],
  ['data', 'app_id'],
  ['data', 'started_at'],
] as const;
const STRING_FIELDS = [
  ['id'],
  ['source'],
  ['datacontenttype'],
  ['data', 'container_id'],
  ['data', 'app_id'],
  ['data', 'function_id'],
  ['data', 'region'],
  ['data', 'provider'],
] as const;

type Json = Record<string, unknown>;

/** Sets `key` as an own property (even `__proto__`), so JSON.stringify writes it. */
function setOwn(target: Json, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function at(event: Json, path: readonly string[]): Json {
  let node: Json = event;
  for (const key of path) {
    if (node[key] === null || typeof node[key] !== 'object') setOwn(node, key, {});
    node = node[key] as Json;
  }
  return node;
}

function nestedText(depth: number, open: string, close: string, inner = '1'): string {
  return open.repeat(depth) + inner + close.repeat(depth);
}

export interface HostileRecord {
  kind: string;
  value: Buffer;
}

const text = (kind: string, s: string): HostileRecord => ({ kind, value: Buffer.from(s, 'utf8') });

/** Hostile usage records, none of which is a valid event. `endedAtMs` makes the rest of each event valid. */
export function hostileUsageRecord(endedAtMs: number): fc.Arbitrary<HostileRecord> {
  const base = () => JSON.parse(JSON.stringify(sampleUsageEvent(endedAtMs))) as Json;
  return fc.oneof(
    fc.uint8Array({ minLength: 0, maxLength: 600 }).map((b) => ({ kind: 'bytes', value: Buffer.from(b) })),
    fc.jsonValue().map((v) => text('json', JSON.stringify(v) ?? 'null')),
    fc
      .tuple(fc.constantFrom(...EVENT_PATHS), fc.constantFrom(...PROTO_KEYS), fc.jsonValue({ maxDepth: 3 }))
      .map(([path, key, value]) => {
        const e = base();
        if (path.length > 0 && typeof at(e, path.slice(0, -1))[path[path.length - 1]] !== 'object')
          setOwn(at(e, path.slice(0, -1)), path[path.length - 1], {});
        setOwn(at(e, path), key, value);
        return text(`proto-key ${[...path, key].join('.')}`, JSON.stringify(e));
      }),
    fc.constantFrom(...EVENT_PATHS.slice(2)).map((path) => {
      // The record that stopped the consumer: a field holding {"constructor":{"prototype":{}}}.
      const e = base();
      const poison = {};
      setOwn(poison, 'constructor', { prototype: {} });
      setOwn(at(e, path.slice(0, -1)), path[path.length - 1], poison);
      return text(`constructor-object ${path.join('.')}`, JSON.stringify(e));
    }),
    fc
      .tuple(fc.constantFrom('top', 'data', 'id', 'extension'), fc.constantFrom('[]', '{"a":}'))
      .map(([where, brackets]) => {
        const [open, close] = brackets === '[]' ? ['[', ']'] : ['{"a":', '}'];
        const deep = nestedText(10_000, open, close);
        if (where === 'top') return text('deep top', deep);
        const e = JSON.stringify(base());
        if (where === 'data') return text('deep data', e.replace(/"data":\{/, `"data":{"deep":${deep},`));
        if (where === 'id') return text('deep id', e.replace(/"id":"[^"]*"/, `"id":${deep}`));
        return text('deep extension', e.replace(/^\{/, `{"ext":${deep},`));
      }),
    fc
      .tuple(fc.constantFrom(...STRING_FIELDS), fc.constantFrom('\\ud800', '\\udfff', 'x\\ud83d', '\\udc00y'))
      .map(([path, lone]) => {
        const e = base();
        setOwn(at(e, path.slice(0, -1)), path[path.length - 1], '@@LONE@@');
        return text(
          `lone-surrogate ${path.join('.')}`,
          JSON.stringify(e).replace('@@LONE@@', `surr-${lone}-end`),
        );
      }),
  );
}

/** Hostile billing records: not JSON, not an event, a refused payload, a lone surrogate, a bogus period. */
export function hostileBillingRecord(): fc.Arbitrary<HostileRecord> {
  const envelope = (type: string, data: unknown, subject = 'ws_poison') =>
    JSON.stringify({
      specversion: '1.0',
      id: `poison-${type}-${Math.random().toString(36).slice(2)}`,
      source: 'gpumeter',
      type,
      subject,
      time: new Date().toISOString(),
      data,
    });
  return fc.oneof(
    fc.uint8Array({ maxLength: 400 }).map((b) => ({ kind: 'bytes', value: Buffer.from(b) })),
    fc.jsonValue().map((v) => text('json', JSON.stringify(v) ?? 'null')),
    fc.constant(
      text(
        'workspace.created with a lone surrogate',
        envelope('workspace.created', {
          id: 'ws_poison',
          name: '@@LONE@@',
          email: 'a@b.test',
          api_key_hash: 'a'.repeat(64),
          api_key_prefix: 'gpm_ws_x',
        }).replace('@@LONE@@', 'a\\ud800b'),
      ),
    ),
    fc
      .constantFrom('0000-01', '0-01', '2026-13', '9999-12', '', 'x')
      .map((period) =>
        text(
          `invoice.period_closed ${period}`,
          envelope('invoice.period_closed', { period, run_id: 'r' }, 'gpumeter'),
        ),
      ),
    fc
      .constantFrom('workspace.created', 'workspace.budget_set', 'catalog.prices_changed', 'invoice.drafted')
      .map((type) => text(`${type} with a refused payload`, envelope(type, { nonsense: true }))),
    fc.constant(text('deep', nestedText(10_000, '[', ']'))),
  );
}
