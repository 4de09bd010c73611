import { InvoiceDocument } from './invoice';

/**
 * Invoice lifecycle events on billing.events.v1 (subject: the workspace). What Stripe holds
 * and reports (invoice.pushed, invoice.paid, invoice.payment_failed) is declared by the
 * stripe module, which publishes it (stripe-events.ts): invoicing depends on stripe, never
 * the other way.
 */

export interface InvoiceDocumentData {
  invoice: InvoiceDocument;
}

export interface PeriodClosedData {
  period: string;
  run_id: string;
}

/** `abandoned`: shown on read for a run whose process stopped beating (it died); never published. */
export type InvoiceRunStatus = 'running' | 'completed' | 'failed' | 'abandoned';

/** A month-end run (drafts, then the month's invoices finalized), or a threshold run (mid-month). */
export type InvoiceRunMode = 'month_end' | 'threshold';

export interface InvoiceRunState {
  id: string;
  period: string;
  trigger: 'api' | 'cli' | 'scheduler';
  /** Absent in runs from before threshold invoices: a month-end run. */
  mode?: InvoiceRunMode;
  status: InvoiceRunStatus;
  /** false while the period is within its grace period: invoices are drafted only */
  finalize: boolean;
  started_at: string;
  updated_at: string;
  finished_at: string | null;
  version: number;
  counts: {
    invoices: number;
    drafted: number;
    finalized: number;
    already_finalized: number;
    pushed: number;
    already_pushed: number;
    push_failed: number;
  };
  errors: { invoice_id?: string; message: string }[];
  pid: number;
}
