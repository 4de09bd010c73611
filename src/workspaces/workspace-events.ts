import { Static, Type } from '@sinclair/typebox';
import { BILLING_THRESHOLD_PATTERN, MONEY_PATTERN, PLAN_PATTERN } from '../catalog/patterns';
import { defineBillingEvents, PayloadsOf } from '../platform/billing-events/billing-event-types';
import { Matching, Nullable, Rfc3339, Text } from '../platform/billing-events/payload-schema';

/** Payloads of the workspace billing events (subject: the workspace). */
export const WorkspaceCreatedData = Type.Object({
  id: Text(),
  name: Text(200),
  email: Text(320),
  api_key_hash: Matching(/^[0-9a-f]{64}$/),
  api_key_prefix: Text(64),
  /** Absent in events from before plans: the default plan. */
  plan: Type.Optional(Matching(PLAN_PATTERN)),
});
export type WorkspaceCreatedData = Static<typeof WorkspaceCreatedData>;

export const WorkspacePlanChangedData = Type.Object({
  plan: Matching(PLAN_PATTERN),
  effective_from: Rfc3339(),
});
export type WorkspacePlanChangedData = Static<typeof WorkspacePlanChangedData>;

export const WorkspaceBudgetSetData = Type.Object({
  /** null: the budget is removed. */
  monthly_limit: Nullable(Matching(MONEY_PATTERN)),
  thresholds: Type.Array(Type.Integer({ minimum: 1, maximum: 1000 }), { maxItems: 10 }),
  /** A hard cap (absent in events from before caps: not enforced). */
  enforce: Type.Optional(Type.Boolean()),
});
export type WorkspaceBudgetSetData = Static<typeof WorkspaceBudgetSetData>;

/**
 * A workspace's own billing threshold (src/invoicing/README.md, threshold invoices):
 * `follows_plan` true puts it back on its plan's; else `billing_threshold` (null: none at all).
 */
export const WorkspaceBillingThresholdSetData = Type.Object({
  billing_threshold: Nullable(Matching(BILLING_THRESHOLD_PATTERN)),
  follows_plan: Type.Boolean(),
});
export type WorkspaceBillingThresholdSetData = Static<typeof WorkspaceBillingThresholdSetData>;

export const WORKSPACE_EVENTS = defineBillingEvents(
  {
    'workspace.created': WorkspaceCreatedData,
    'workspace.plan_changed': WorkspacePlanChangedData,
    'workspace.budget_set': WorkspaceBudgetSetData,
    'workspace.billing_threshold_set': WorkspaceBillingThresholdSetData,
  },
  {
    'workspace.created': (e) => (e.data.id === e.subject ? null : 'data.id must be the event subject'),
  },
);

declare module '../platform/billing-events/billing-event-types' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- declaration merging
  interface BillingEventPayloads extends PayloadsOf<typeof WORKSPACE_EVENTS> {}
}
