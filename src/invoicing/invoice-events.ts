import { Static, Type } from '@sinclair/typebox';
import { defineBillingEvents, PayloadsOf } from '../platform/billing-events/billing-event-types';
import { Count, Nullable, OneOf, Rfc3339, Text } from '../platform/billing-events/payload-schema';
import { PeriodText } from './billing-period';
import { InvoiceDocument } from './invoice';

/**
 * Invoice lifecycle events on billing.events.v1 (subject: the workspace). What Stripe holds
 * and reports (invoice.pushed, invoice.paid, invoice.payment_failed) is declared by the
 * stripe module, which publishes it (stripe-events.ts): invoicing depends on stripe, never
 * the other way.
 */

export const InvoiceDocumentData = Type.Object({ invoice: InvoiceDocument });
export type InvoiceDocumentData = Static<typeof InvoiceDocumentData>;

export const PeriodClosedData = Type.Object({ period: PeriodText(), run_id: Text() });
export type PeriodClosedData = Static<typeof PeriodClosedData>;

/** `abandoned`: shown on read for a run whose process stopped beating (it died); never published. */
export type InvoiceRunStatus = 'running' | 'completed' | 'failed' | 'abandoned';

/** A month-end run (drafts, then the month's invoices finalized), or a threshold run (mid-month). */
export const INVOICE_RUN_MODES = ['month_end', 'threshold'] as const;
export type InvoiceRunMode = (typeof INVOICE_RUN_MODES)[number];

const RunCounts = Type.Object({
  invoices: Count(),
  drafted: Count(),
  finalized: Count(),
  already_finalized: Count(),
  pushed: Count(),
  already_pushed: Count(),
  push_failed: Count(),
});

/** A run's counts before its first step. */
export const noRunCounts = (): Static<typeof RunCounts> => ({
  invoices: 0,
  drafted: 0,
  finalized: 0,
  already_finalized: 0,
  pushed: 0,
  already_pushed: 0,
  push_failed: 0,
});

/** An invoice run's whole state after a step (invoice_run.updated). */
export const PublishedRunState = Type.Object({
  id: Text(),
  period: PeriodText(),
  trigger: OneOf(['api', 'cli', 'scheduler'] as const),
  /** Absent in runs from before threshold invoices: a month-end run. */
  mode: Type.Optional(OneOf(INVOICE_RUN_MODES)),
  status: OneOf(['running', 'completed', 'failed'] as const),
  /** false while the period is within its grace period: invoices are drafted only */
  finalize: Type.Boolean(),
  started_at: Rfc3339(),
  updated_at: Rfc3339(),
  finished_at: Nullable(Rfc3339()),
  version: Count(),
  counts: RunCounts,
  errors: Type.Array(Type.Object({ invoice_id: Type.Optional(Type.String()), message: Type.String() })),
  pid: Type.Integer(),
});

/** A run as readers see it: as published, or `abandoned` when its process stopped beating. */
export type InvoiceRunState = Omit<Static<typeof PublishedRunState>, 'status'> & { status: InvoiceRunStatus };

export const INVOICE_EVENTS = defineBillingEvents(
  {
    'invoice.drafted': InvoiceDocumentData,
    'invoice.finalized': InvoiceDocumentData,
    /** Subject gpumeter: every invoice of the period is finalized. */
    'invoice.period_closed': PeriodClosedData,
    /** Subject gpumeter: an invoice run's whole state after a step. */
    'invoice_run.updated': PublishedRunState,
  },
  {
    'invoice.drafted': refuseForeignDocument,
    'invoice.finalized': refuseForeignDocument,
  },
);

function refuseForeignDocument(e: { subject: string; data: InvoiceDocumentData }): string | null {
  return e.data.invoice.workspace_id === e.subject
    ? null
    : 'data.invoice.workspace_id must be the event subject';
}

declare module '../platform/billing-events/billing-event-types' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- declaration merging
  interface BillingEventPayloads extends PayloadsOf<typeof INVOICE_EVENTS> {}
}
