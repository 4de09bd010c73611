import type { Static, TSchema } from '@sinclair/typebox';

/**
 * Every billing event type on billing.events.v1 and the payload it carries. Platform declares
 * the map empty; each module adds its own types where it defines them (its `*-events.ts`),
 * by declaration merging:
 *
 *     export const WORKSPACE_EVENTS = defineBillingEvents({ 'workspace.created': WorkspaceCreatedData, … });
 *     declare module '../platform/billing-events/billing-event-types' {
 *       interface BillingEventPayloads extends PayloadsOf<typeof WORKSPACE_EVENTS> {}
 *     }
 *
 * and registers the same definitions at start-up (`provideBillingEvents` in its module), so
 * the type a payload has in TypeScript is derived from the one schema the service checks it
 * against. Platform therefore names no domain: `newBillingEvent('invoice.paid', …)` takes the
 * stripe module's payload, a projection's `switch (event.type)` narrows `data`, and lint
 * (@typescript-eslint/switch-exhaustiveness-check) checks it is exhaustive.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by declaration merging
export interface BillingEventPayloads {}

export type BillingEventType = Extract<keyof BillingEventPayloads, string>;

/**
 * What a schema cannot say of one event: a relation between its fields, or with the
 * envelope's subject (a workspace.created names its own subject). The reason it is refused,
 * or null.
 */
export type BillingEventRefinement<S extends TSchema> = {
  // Method syntax: checked bivariantly, so a module's refinements fit the registry's map.
  refine(event: { subject: string; data: Static<S> }): string | null;
}['refine'];

/** A module's billing event types: each type's payload schema, and what the schemas cannot say. */
export interface BillingEventDefinitions<T extends Record<string, TSchema> = Record<string, TSchema>> {
  readonly schemas: T;
  readonly refinements: { readonly [K in keyof T]?: BillingEventRefinement<T[K]> };
}

/**
 * A module's billing event types. The `const` schemas object is both what the module merges
 * into BillingEventPayloads (`PayloadsOf`) and what it registers at start-up.
 */
export function defineBillingEvents<const T extends Record<string, TSchema>>(
  schemas: T,
  refinements: { [K in keyof T]?: BillingEventRefinement<T[K]> } = {},
): BillingEventDefinitions<T> {
  return { schemas, refinements };
}

/** The payload of each type a module defines: what it merges into BillingEventPayloads. */
export type PayloadsOf<D extends BillingEventDefinitions> = {
  [K in keyof D['schemas']]: Static<D['schemas'][K]>;
};
