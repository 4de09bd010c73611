import { PlanTerms } from '../catalog/price-catalog';
import { checkFields, isObject, text } from '../platform/billing-events/billing-event-checks';
import { BillingPeriod } from './billing-period';

export type LineKind = 'gpu' | 'cpu' | 'memory' | 'plan_fee' | 'credits' | 'adjustment';
export type LineUnit = 'gpu_second' | 'core_second' | 'gib_second' | 'month' | 'usd';

/** One price applied to part of a line's quantity (a line spans a price change). */
export interface LinePrice {
  from: string;
  to: string;
  unit_price: string;
  quantity: string;
  amount: string; // exact, unrounded: the line's amount is the rounded sum of these
}

export interface LineBreakdown {
  app_id: string;
  function_id: string;
  quantity: string;
  amount: string; // rounded on its own; informational (the line amount is rounded once, whole)
}

/** The events behind a usage line (line tracing): see src/invoicing/README.md. */
export interface LineEvents {
  events: string; // how many
  quantity_ms: string; // their quantity in the line's base unit: GPU-, millicore- or MiB-ms
  checksum: string; // multiset hash of (source, id, quantity_ms)
  ingested_after: string | null; // first accepted after this (an adjustment: the previous billing's cut)
  ingested_until: string; // … and at or before this
}

export interface InvoiceLine {
  id: string; // deterministic from (workspace, period, key)
  key: string; // 'gpu:H100' | 'cpu' | 'memory' | 'plan_fee' | 'credits' | 'adjustment:<period>:<key>'
  kind: LineKind;
  description: string;
  quantity: string; // in `unit`, exact decimal
  unit: LineUnit;
  unit_price: string | null; // null when several prices applied (see `prices`)
  prices: LinePrice[];
  amount: string; // major units, rounded half-up to the cent (the one rounding rule)
  breakdown: LineBreakdown[];
  adjusts?: { period: string; key: string };
  /** Usage lines of invoices finalized since line tracing: the events behind the line. */
  events?: LineEvents;
  /**
   * A line of a month billed in parts (threshold invoices): what the month's earlier invoices
   * billed under the same key; the line is the month so far (or whole) less that.
   */
  billed_before?: { quantity: string; amount: string };
}

/** A credit grant on an invoice: its balance before, what the invoice took, what is left and what expired. */
export interface CreditGrantUse {
  grant_id: string; // `plan:<YYYY-MM>` for a plan's monthly credits
  kind: string;
  priority: number;
  expires_at: string | null;
  balance_before: string;
  applied: string; // own credit line and adjustment credit lines together
  balance_after: string;
  expired: string; // what was left when it expired with this month (0 otherwise)
}

/** An invoice's content. Once finalized it never changes (a later correction is an adjustment line). */
export interface InvoiceDocument {
  id: string;
  workspace_id: string;
  period: string; // YYYY-MM
  period_start: string;
  period_end: string;
  currency: string;
  plan: PlanTerms;
  lines: InvoiceLine[];
  usage_subtotal: string;
  credits_applied: string;
  total: string;
  /** Absent on invoices from before credit grants. */
  credit_grants?: CreditGrantUse[];
  /** Finalized invoices since line tracing: the cut its lines' events were taken at. */
  events_as_of?: string;
  /**
   * A threshold invoice (mid-month, progressive billing; src/invoicing/README.md): the n-th of
   * its month, drawn up when the month's unbilled spend reached the workspace's threshold.
   */
  threshold?: { sequence: number; billing_threshold: string; usage_as_of: string };
  /** The month-end invoice of a month with threshold invoices: their ids; it bills the rest. */
  threshold_invoices?: string[];
  computed_at: string;
}

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
const DECIMAL = /^-?\d{1,15}(\.\d{1,15})?$/;
const isDecimal = (v: unknown) => typeof v === 'string' && DECIMAL.test(v);

/** What readers of invoice documents rely on (ids, the period, amounts as decimal strings, lines). */
export function refuseDocument(doc: unknown, workspaceId: string): string | null {
  return checkFields(
    doc,
    {
      id: text(),
      workspace_id: (v) => v === workspaceId,
      period: isPeriod,
      currency: text(8),
      plan: isObject,
      usage_subtotal: isDecimal,
      credits_applied: isDecimal,
      total: isDecimal,
      lines: (v) =>
        Array.isArray(v) &&
        v.every(
          (l) => checkFields(l, { id: text(), key: text(), kind: text(32), amount: isDecimal }) === null,
        ),
    },
    'data.invoice',
  );
}
