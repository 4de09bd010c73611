import { Static, TSchema, Type } from '@sinclair/typebox';
import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import { WORKSPACE_ID_PATTERN } from '../../common/ids';
import { parseRfc3339Ms } from '../../common/rfc3339';
import { findJsonProblem } from '../json/untrusted-json';
import { BillingEventEnvelope } from './billing-event';
import { BillingEventDefinitions, BillingEventRefinement } from './billing-event-types';

/** The reason an event is refused, or null. */
export type Refusal = string | null;

const TYPE_PATTERN = /^[a-z][a-z_]*(\.[a-z][a-z_]*)+$/;

/**
 * The envelope every billing event has, whatever its type: a CloudEvent from gpumeter with a
 * workspace (or `gpumeter`) subject and an object payload. Each field says how it is refused.
 */
const ENVELOPE = Type.Object({
  specversion: Type.Literal('1.0', { refusal: 'specversion must be 1.0' }),
  id: Type.String({ minLength: 1, maxLength: 256, refusal: 'id must be a string of 1–256 characters' }),
  source: Type.Literal('gpumeter', { refusal: 'source must be gpumeter' }),
  type: Type.String({
    maxLength: 128,
    pattern: TYPE_PATTERN.source,
    refusal: 'type must be a dotted event type',
  }),
  subject: Type.String({
    pattern: WORKSPACE_ID_PATTERN.source,
    refusal: 'subject must be a workspace id or gpumeter',
  }),
  time: Type.String({ format: 'rfc3339', refusal: 'time must be an RFC 3339 date-time' }),
  data: Type.Object({}, { refusal: 'data must be an object' }),
});
const ENVELOPE_REFUSALS: Record<string, string> = Object.fromEntries(
  Object.entries(ENVELOPE.properties).map(([field, schema]) => [field, String(schema.refusal)]),
);

interface RegisteredType {
  validate: ValidateFunction;
  refine?: BillingEventRefinement<TSchema>;
}

/**
 * The billing event types this build knows, each with the schema its module registered, and
 * the one check of a record: the envelope, then its type's payload schema, then what the
 * schema cannot say (refinements). The same check runs before publishing (nothing is
 * published that would be refused) and on consuming (a refused record is dead-lettered).
 */
export class BillingEventSchemas {
  private readonly ajv = payloadAjv();
  private readonly types = new Map<string, RegisteredType>();
  private readonly envelope = this.ajv.compile(ENVELOPE);

  /** Registers a module's types; a type registered twice stops start-up. */
  define(definitions: BillingEventDefinitions): void {
    for (const [type, schema] of Object.entries(definitions.schemas)) {
      if (this.types.has(type)) throw new Error(`billing event type ${type} is defined twice`);
      if (!TYPE_PATTERN.test(type)) throw new Error(`billing event type ${type} is not a dotted event type`);
      this.types.set(type, { validate: this.ajv.compile(schema), refine: definitions.refinements[type] });
    }
  }

  /** Whether this build knows a type (an own entry: `constructor` is not a type). */
  knows(type: string): boolean {
    return this.types.has(type);
  }

  get known(): string[] {
    return [...this.types.keys()];
  }

  /**
   * Why a record is not a billing event this build can apply, or null. A record of a type
   * this build does not know only needs a valid envelope: it is kept, never read as another.
   */
  refusal(raw: unknown): Refusal {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
      return 'a billing event must be a JSON object';
    const problem = findJsonProblem(raw, '(event)');
    if (problem) return problem.message;
    if (!this.envelope(raw)) return envelopeRefusal(this.envelope.errors ?? []);
    const event = raw as BillingEventEnvelope;
    return this.knows(event.type) ? this.payloadRefusal(event.type, event.subject, event.data) : null;
  }

  /** Why a payload of a known type is refused (stored rows are read back through this too). */
  payloadRefusal(type: string, subject: string, data: unknown): Refusal {
    const registered = this.types.get(type);
    if (!registered) return `unknown billing event type ${type}`;
    if (!registered.validate(data))
      return `${fieldOf(registered.validate.errors?.[0])} is missing or invalid`;
    return registered.refine?.({ subject, data }) ?? null;
  }
}

/** The validator every payload schema is compiled with: its formats and keywords. */
function payloadAjv(): Ajv {
  // unicodeRegExp false: patterns mean what they mean in the module's own RegExp.
  const ajv = new Ajv({ strict: true, strictTypes: false, unicodeRegExp: false });
  ajv.addKeyword({ keyword: 'refusal', schemaType: 'string' });
  ajv.addFormat('rfc3339', { type: 'string', validate: (s: string) => parseRfc3339Ms(s) !== null });
  return ajv;
}

/**
 * A check of a value against a payload schema (or a part of one) outside any event: rows a
 * projection stored are read back through the schema of what was projected into them.
 */
export function schemaCheck<S extends TSchema>(schema: S): (value: unknown) => value is Static<S> {
  const validate = payloadAjv().compile(schema);
  return (value: unknown): value is Static<S> => validate(value);
}

function envelopeRefusal(errors: ErrorObject[]): string {
  const [e] = errors;
  const field =
    e?.keyword === 'required'
      ? (e.params as { missingProperty: string }).missingProperty
      : (e?.instancePath.split('/')[1] ?? '');
  return ENVELOPE_REFUSALS[field] ?? 'a billing event must be a JSON object';
}

/** The field an Ajv error is about, as `data.invoice.lines[0].amount`. */
function fieldOf(e: ErrorObject | undefined): string {
  if (!e) return 'data';
  const segments = e.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (e.keyword === 'required') segments.push((e.params as { missingProperty: string }).missingProperty);
  return `data${segments.map((s) => (/^\d+$/.test(s) ? `[${s}]` : `.${s}`)).join('')}`;
}
