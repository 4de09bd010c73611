import { Static, TSchema, TUnsafe, Type } from '@sinclair/typebox';

/**
 * The pieces billing event payload schemas are built from (TypeBox: JSON Schema with its
 * TypeScript type derived). Each describes a field once; BillingEventSchemas checks it on
 * publishing and on consuming with Ajv. Payload objects allow fields they do not name: a
 * newer build may add one, and an older build must still read the event.
 */

/** A non-empty string of at most `max` characters (well-formedness is untrusted-json's check). */
export const Text = (max = 256) => Type.String({ minLength: 1, maxLength: max });

/** A string matching a pattern (the same RegExp the module's DTOs use). */
export const Matching = (pattern: RegExp) => Type.String({ pattern: pattern.source });

/** An RFC 3339 date-time as common/rfc3339.ts reads it (the `rfc3339` format). */
export const Rfc3339 = () => Type.String({ format: 'rfc3339' });

/** The value, or null. */
export const Nullable = <S extends TSchema>(schema: S) => Type.Union([schema, Type.Null()]);

/** A non-negative safe integer. */
export const Count = () => Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });

/** One of a fixed list of strings; the TypeScript type is their union. */
export const OneOf = <const L extends readonly string[]>(values: L): TUnsafe<L[number]> =>
  Type.Unsafe<L[number]>({ type: 'string', enum: [...values] });

/**
 * An object whose keys are some of `keys` (no other) and whose values are `value` (prices by
 * GPU type). Typed as a string-keyed record, as the code that reads it uses it.
 */
export const KeyedBy = <S extends TSchema>(
  keys: readonly string[],
  value: S,
): TUnsafe<Record<string, Static<S>>> =>
  Type.Unsafe<Record<string, Static<S>>>({
    type: 'object',
    propertyNames: { enum: [...keys] },
    additionalProperties: value,
  });
