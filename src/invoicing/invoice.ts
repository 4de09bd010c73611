import { Static, Type } from '@sinclair/typebox';
import { PlanTerms } from '../catalog/catalog-events';
import { Matching, Nullable, OneOf, Text } from '../platform/billing-events/payload-schema';
import { BillingPeriod, PeriodText } from './billing-period';

const Decimal = Matching(/^-?\d{1,15}(\.\d{1,15})?$/);

export const LINE_KINDS = ['gpu', 'cpu', 'memory', 'plan_fee', 'credits', 'adjustment'] as const;
export type LineKind = (typeof LINE_KINDS)[number];
export const LINE_UNITS = ['gpu_second', 'core_second', 'gib_second', 'month', 'usd'] as const;
export type LineUnit = (typeof LINE_UNITS)[number];

/** One price applied to part of a line's quantity (a line spans a price change). */
export const LinePrice = Type.Object({
  from: Type.String(),
  to: Type.String(),
  unit_price: Type.String(),
  quantity: Type.String(),
  /** exact, unrounded: the line's amount is the rounded sum of these */
  amount: Type.String(),
});
export type LinePrice = Static<typeof LinePrice>;

export const LineBreakdown = Type.Object({
  app_id: Type.String(),
  function_id: Type.String(),
  quantity: Type.String(),
  /** rounded on its own; informational (the line amount is rounded once, whole) */
  amount: Type.String(),
});
export type LineBreakdown = Static<typeof LineBreakdown>;

/** The events behind a usage line (line tracing): see src/invoicing/README.md. */
export const LineEvents = Type.Object({
  /** how many */
  events: Type.String(),
  /** their quantity in the line's base unit: GPU-, millicore- or MiB-ms */
  quantity_ms: Type.String(),
  /** multiset hash of (source, id, quantity_ms) */
  checksum: Type.String(),
  /** first accepted after this (an adjustment: the previous billing's cut) */
  ingested_after: Nullable(Type.String()),
  /** … and at or before this */
  ingested_until: Type.String(),
});
export type LineEvents = Static<typeof LineEvents>;

export const InvoiceLine = Type.Object({
  /** deterministic from (workspace, period, key) */
  id: Text(),
  /** 'gpu:H100' | 'cpu' | 'memory' | 'plan_fee' | 'credits' | 'adjustment:<period>:<key>' */
  key: Text(),
  kind: OneOf(LINE_KINDS),
  description: Type.String(),
  /** in `unit`, exact decimal */
  quantity: Type.String(),
  unit: OneOf(LINE_UNITS),
  /** null when several prices applied (see `prices`) */
  unit_price: Nullable(Type.String()),
  prices: Type.Array(LinePrice),
  /** major units, rounded half-up to the cent (the one rounding rule) */
  amount: Decimal,
  breakdown: Type.Array(LineBreakdown),
  adjusts: Type.Optional(Type.Object({ period: Type.String(), key: Type.String() })),
  /** Usage lines of invoices finalized since line tracing: the events behind the line. */
  events: Type.Optional(LineEvents),
  /**
   * A line of a month billed in parts (threshold invoices): what the month's earlier invoices
   * billed under the same key; the line is the month so far (or whole) less that.
   */
  billed_before: Type.Optional(Type.Object({ quantity: Type.String(), amount: Type.String() })),
});
export type InvoiceLine = Static<typeof InvoiceLine>;

/** A credit grant on an invoice: its balance before, what the invoice took, what is left and what expired. */
export const CreditGrantUse = Type.Object({
  /** `plan:<YYYY-MM>` for a plan's monthly credits */
  grant_id: Type.String(),
  kind: Type.String(),
  priority: Type.Integer(),
  expires_at: Nullable(Type.String()),
  balance_before: Type.String(),
  /** own credit line and adjustment credit lines together */
  applied: Type.String(),
  balance_after: Type.String(),
  /** what was left when it expired with this month (0 otherwise) */
  expired: Type.String(),
});
export type CreditGrantUse = Static<typeof CreditGrantUse>;

/** An invoice's content. Once finalized it never changes (a later correction is an adjustment line). */
export const InvoiceDocument = Type.Object({
  id: Text(),
  workspace_id: Type.String(),
  /** YYYY-MM */
  period: PeriodText(),
  period_start: Type.String(),
  period_end: Type.String(),
  currency: Text(8),
  plan: PlanTerms,
  lines: Type.Array(InvoiceLine),
  usage_subtotal: Decimal,
  credits_applied: Decimal,
  total: Decimal,
  /** Absent on invoices from before credit grants. */
  credit_grants: Type.Optional(Type.Array(CreditGrantUse)),
  /** Finalized invoices since line tracing: the cut its lines' events were taken at. */
  events_as_of: Type.Optional(Type.String()),
  /**
   * A threshold invoice (mid-month, progressive billing; src/invoicing/README.md): the n-th of
   * its month, drawn up when the month's unbilled spend reached the workspace's threshold.
   */
  threshold: Type.Optional(
    Type.Object({ sequence: Type.Integer(), billing_threshold: Type.String(), usage_as_of: Type.String() }),
  ),
  /** The month-end invoice of a month with threshold invoices: their ids; it bills the rest. */
  threshold_invoices: Type.Optional(Type.Array(Type.String())),
  computed_at: Type.String(),
});
export type InvoiceDocument = Static<typeof InvoiceDocument>;

export type InvoiceStatus = 'draft' | 'finalized' | 'pushed' | 'paid' | 'payment_failed';

export interface InvoiceView extends InvoiceDocument {
  status: InvoiceStatus;
  finalized_at: string | null;
  stripe: {
    customer_id: string;
    invoice_id: string;
    invoice_item_ids: Record<string, string>;
    hosted_invoice_url: string | null;
  } | null;
  paid_at: string | null;
  payment_failure: string | null;
}

export function invoiceId(workspaceId: string, period: string): string {
  return `inv_${period}_${workspaceId}`;
}

export function lineId(workspaceId: string, period: string, key: string): string {
  return `${invoiceId(workspaceId, period)}:${key}`;
}

export const isPeriod = (v: unknown) => BillingPeriod.parse(v) !== undefined;
