import { Injectable } from '@nestjs/common';
import { ClickHouseService } from '../platform/clickhouse/clickhouse.service';
import { and, int, list, Sql, sql, str } from '../platform/clickhouse/sql';
import { InvoiceDocument } from './invoice';
import { schemaCheck } from '../platform/billing-events/billing-event-schemas';
import { BillingPeriod } from './billing-period';
import { StoredRows } from '../platform/clickhouse/stored-rows';
import { InvoiceRunState } from './invoice-events';
import { BillingEventPayloads } from '../platform/billing-events/billing-event';

/** The check a document passed when it was projected: a row an older build wrote is skipped, not misread. */
const isInvoiceDocument = schemaCheck(InvoiceDocument);

export interface StoredInvoice {
  document: InvoiceDocument;
  finalized: boolean;
  /** epoch ms of the (first) finalization; null for a draft */
  finalizedAtMs: number | null;
}

/** The facts Stripe reports of an invoice, kept per invoice in `invoice_status_events`. */
export const INVOICE_STATUS_TYPES = ['invoice.pushed', 'invoice.paid', 'invoice.payment_failed'] as const;
export type InvoiceStatusType = (typeof INVOICE_STATUS_TYPES)[number];

/** One of them as stored, its payload as the billing event carried it. */
export type InvoiceStatusRow = {
  [K in InvoiceStatusType]: {
    invoice_id: string;
    event_id: string;
    type: K;
    occurred_at_ms: number;
    data: BillingEventPayloads[K];
  };
}[InvoiceStatusType];

const FINALIZED_VERSION_BASE = 2n ** 62n;

/** The invoicing projections (migrations/0003): documents, status events, closed periods, runs. */
@Injectable()
export class InvoicesRepository {
  constructor(
    private readonly clickhouse: ClickHouseService,
    private readonly stored: StoredRows,
  ) {}

  /**
   * A draft's version is its computation time; a finalization's is 2^62 minus its time, so
   * the first finalized content outranks drafts and any later finalization.
   */
  async putDocuments(
    rows: readonly { document: InvoiceDocument; finalized: boolean; atMs: number }[],
  ): Promise<void> {
    await this.clickhouse.insert(
      'invoice_documents',
      rows.map(({ document, finalized, atMs }) => ({
        id: document.id,
        workspace_id: document.workspace_id,
        period: document.period,
        finalized: finalized ? 1 : 0,
        version: (finalized ? FINALIZED_VERSION_BASE - BigInt(atMs) : BigInt(atMs)).toString(),
        document: JSON.stringify(document),
      })),
    );
  }

  async appendStatuses(rows: readonly (InvoiceStatusRow & { workspace_id: string })[]): Promise<void> {
    await this.clickhouse.insert(
      'invoice_status_events',
      rows.map((row) => ({ ...row, data: JSON.stringify(row.data) })),
    );
  }

  /** Invoices matching the filters, newest period first. */
  async documents(filter: {
    workspaceId?: string;
    periods?: readonly string[];
    id?: string;
    finalizedOnly?: boolean;
    /** A page in the listing order (period descending, then workspace): after this position, at most `limit`. */
    after?: { period: string; workspaceId: string };
    limit?: number;
  }): Promise<StoredInvoice[]> {
    const where: Sql[] = [];
    if (filter.workspaceId !== undefined) where.push(sql`workspace_id = ${str(filter.workspaceId)}`);
    if (filter.periods !== undefined) {
      if (filter.periods.length === 0) return [];
      where.push(sql`period IN (${list(filter.periods.map(str))})`);
    }
    if (filter.id !== undefined) where.push(sql`id = ${str(filter.id)}`);
    if (filter.finalizedOnly) where.push(sql`finalized = 1`);
    if (filter.after !== undefined) {
      const { period, workspaceId } = filter.after;
      where.push(
        sql`(period < ${str(period)} OR (period = ${str(period)} AND workspace_id > ${str(workspaceId)}))`,
      );
    }
    const limit = filter.limit === undefined ? sql`` : sql`LIMIT ${int(filter.limit)}`;
    const rows = await this.clickhouse.query<{ document: string; finalized: number; version: string }>(sql`
      SELECT document, finalized, toString(version) AS version FROM invoice_documents FINAL
      WHERE ${and(where)}
      ORDER BY period DESC, workspace_id ${limit}`);
    return this.stored.read(
      'invoice_documents',
      rows,
      (r) => {
        const document = JSON.parse(r.document) as unknown;
        if (!isInvoiceDocument(document)) return undefined;
        const finalized = Number(r.finalized) === 1;
        return {
          document,
          finalized,
          finalizedAtMs: finalized ? Number(FINALIZED_VERSION_BASE - BigInt(r.version)) : null,
        };
      },
      (r) => r.document.slice(0, 80),
    );
  }

  async statusRows(invoiceIds: readonly string[]): Promise<InvoiceStatusRow[]> {
    if (invoiceIds.length === 0) return [];
    // The ids travel as an external table: a period's 10,000 ids as SQL literals would pass
    // ClickHouse's 256 KiB query size limit.
    const rows = await this.clickhouse.queryWithExternalTable<{
      invoice_id: string;
      event_id: string;
      type: string;
      occurred_at_ms: string;
      data: string;
    }>(
      sql`
      SELECT invoice_id, event_id, type, occurred_at_ms, data FROM invoice_status_events FINAL
      WHERE invoice_id IN (SELECT id FROM wanted_invoices)
      ORDER BY occurred_at_ms, event_id`,
      { name: 'wanted_invoices', structure: 'id String', rows: invoiceIds.map((id) => [id]) },
    );
    return this.stored.read(
      'invoice_status_events',
      rows,
      (r) => {
        const type = INVOICE_STATUS_TYPES.find((t) => t === r.type);
        if (!type) return undefined; // written by a newer build: not read as some other fact
        // Checked by the invoice projection's `refuse` before it was stored.
        return {
          ...r,
          type,
          occurred_at_ms: Number(r.occurred_at_ms),
          data: JSON.parse(r.data) as unknown,
        } as InvoiceStatusRow;
      },
      (r) => r.event_id,
    );
  }

  async closePeriods(
    rows: readonly { period: string; run_id: string; closed_at_ms: number }[],
  ): Promise<void> {
    await this.clickhouse.insert('closed_periods', rows);
  }

  /** Closed periods as `YYYY-MM`; a stored period the parser refuses (e.g. "0-01") is skipped and reported. */
  async closedPeriods(): Promise<Set<string>> {
    const rows = await this.clickhouse.query<{ period: string }>(
      sql`SELECT DISTINCT period FROM closed_periods`,
    );
    return new Set(
      this.stored.read(
        'closed_periods',
        rows,
        (r) => BillingPeriod.parse(r.period)?.toString(),
        (r) => r.period,
      ),
    );
  }

  async putRuns(states: readonly InvoiceRunState[]): Promise<void> {
    await this.clickhouse.insert(
      'invoice_runs',
      states.map((state) => ({
        id: state.id,
        period: state.period,
        version: state.version,
        updated_at_ms: Date.parse(state.updated_at),
        state: JSON.stringify(state),
      })),
    );
  }

  async run(id: string): Promise<InvoiceRunState | undefined> {
    const rows = await this.clickhouse.query<{ state: string }>(
      sql`SELECT state FROM invoice_runs FINAL WHERE id = ${str(id)}`,
    );
    return this.runStates(rows)[0];
  }

  async runsForPeriod(period: string): Promise<InvoiceRunState[]> {
    const rows = await this.clickhouse.query<{ state: string }>(
      sql`SELECT state FROM invoice_runs FINAL WHERE period = ${str(period)} ORDER BY updated_at_ms`,
    );
    return this.runStates(rows);
  }

  private runStates(rows: readonly { state: string }[]): InvoiceRunState[] {
    return this.stored.read(
      'invoice_runs',
      rows,
      (r) => {
        const state = JSON.parse(r.state) as InvoiceRunState;
        return BillingPeriod.parse(state.period) ? state : undefined;
      },
      (r) => r.state.slice(0, 80),
    );
  }
}
