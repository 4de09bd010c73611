import { Clock } from '../platform/clock';
import { Injectable } from '@nestjs/common';
import { invoiceStatus } from './invoice-status';
import { formatAmount, Money } from '../catalog/money';
import { ApiError, ApiErrorCode } from '../common/api-error';
import { budgetStatus } from '../workspaces/budget';
import { WorkspacesRepository } from '../workspaces/workspaces.repository';
import { BillingPeriod } from './billing-period';
import { InvoiceDocument, invoiceId, InvoiceView } from './invoice';
import { InvoiceCalculator } from './invoice-calculator.service';
import { InvoicesRepository, StoredInvoice } from './invoices.repository';
import { spendFigures } from './spend';

/** Reading invoices: stored ones with their lifecycle state, the open period's preview, current spend. */
/** Invoices per page of GET /v1/invoices unless `limit` says otherwise (1–100). */
export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 100;

@Injectable()
export class InvoiceViewsService {
  constructor(
    private readonly invoices: InvoicesRepository,
    private readonly calculator: InvoiceCalculator,
    private readonly workspaces: WorkspacesRepository,
    private readonly clock: Clock,
  ) {}

  private async withStatus(stored: StoredInvoice[]): Promise<InvoiceView[]> {
    const rows = await this.invoices.statusRows(stored.map((s) => s.document.id));
    // Grouped once: a period's export reads every invoice of every workspace.
    const byInvoice = new Map<string, typeof rows>();
    for (const r of rows) byInvoice.set(r.invoice_id, [...(byInvoice.get(r.invoice_id) ?? []), r]);
    return stored.map(({ document, finalized, finalizedAtMs }) => {
      const mine = byInvoice.get(document.id) ?? [];
      const pushed = mine.flatMap((r) => (r.type === 'invoice.pushed' ? [r.data] : []))[0];
      const payment = mine
        .filter((r) => r.type === 'invoice.paid' || r.type === 'invoice.payment_failed')
        .pop();
      const paid = mine.find((r) => r.type === 'invoice.paid');
      const status = invoiceStatus(finalized, mine);
      return {
        ...document,
        status,
        finalized_at: finalizedAtMs === null ? null : new Date(finalizedAtMs).toISOString(),
        stripe: pushed
          ? {
              customer_id: pushed.stripe_customer_id,
              invoice_id: pushed.stripe_invoice_id,
              invoice_item_ids: pushed.stripe_invoice_item_ids,
              hosted_invoice_url: pushed.stripe_hosted_invoice_url ?? null,
            }
          : null,
        paid_at: paid ? new Date(paid.occurred_at_ms).toISOString() : null,
        payment_failure:
          payment?.type === 'invoice.payment_failed' ? (payment.data.reason ?? 'failed') : null,
      };
    });
  }

  /**
   * A page of invoices, newest period first, then by workspace (Stripe's way: `limit`,
   * `starting_after` an invoice id of the previous page, `has_more`). An unknown
   * `starting_after` (or another workspace's invoice) is a 400 naming it.
   */
  async list(filter: {
    workspaceId?: string;
    period?: string;
    limit?: number;
    startingAfter?: string;
  }): Promise<{ invoices: InvoiceView[]; has_more: boolean }> {
    const limit = filter.limit ?? DEFAULT_PAGE_SIZE;
    let after: { period: string; workspaceId: string } | undefined;
    if (filter.startingAfter !== undefined) {
      const [cursor] = await this.invoices.documents({
        id: filter.startingAfter,
        workspaceId: filter.workspaceId,
      });
      if (!cursor)
        throw ApiError.invalid('starting_after', 'starting_after must be the id of an invoice listed');
      after = { period: cursor.document.period, workspaceId: cursor.document.workspace_id };
    }
    const page = await this.invoices.documents({
      workspaceId: filter.workspaceId,
      periods: filter.period === undefined ? undefined : [filter.period],
      after,
      limit: limit + 1,
    });
    return { invoices: await this.withStatus(page.slice(0, limit)), has_more: page.length > limit };
  }

  /** Every invoice of the filter, a page at a time (the invoice export): memory holds one page. */
  async *pages(
    filter: { workspaceId?: string; period?: string },
    pageSize = 500,
  ): AsyncGenerator<InvoiceView[]> {
    let startingAfter: string | undefined;
    for (;;) {
      const page = await this.list({ ...filter, limit: pageSize, startingAfter });
      if (page.invoices.length > 0) yield page.invoices;
      if (!page.has_more) return;
      startingAfter = page.invoices[page.invoices.length - 1].id;
    }
  }

  /** One invoice; a workspace asking for another workspace's invoice is told it does not exist. */
  async get(id: string, workspaceId?: string): Promise<InvoiceView> {
    const stored = await this.invoices.documents({ id, workspaceId });
    if (stored.length === 0) throw new ApiError(ApiErrorCode.NotFound, 'invoice not found');
    return (await this.withStatus(stored))[0];
  }

  /** The open period's invoice as it stands: the same computation a run will make. */
  async upcoming(
    workspaceId: string,
    now = this.clock.date(),
  ): Promise<InvoiceDocument & { status: 'upcoming' }> {
    // An operator naming a workspace that does not exist gets a 404, not an empty invoice.
    if (!(await this.workspaces.findById(workspaceId)))
      throw new ApiError(ApiErrorCode.NotFound, 'workspace not found');
    const period = BillingPeriod.containing(now.getTime());
    const [doc] = await this.calculator.compute(period, { workspaceId, now });
    if (doc) return { ...doc, status: 'upcoming' };
    const plan = await this.calculator.planTermsOf(workspaceId, period);
    const empty: InvoiceDocument = {
      id: invoiceId(workspaceId, period.toString()),
      workspace_id: workspaceId,
      period: period.toString(),
      period_start: new Date(period.startMs).toISOString(),
      period_end: new Date(period.endMs).toISOString(),
      currency: 'usd',
      plan,
      lines: [],
      usage_subtotal: '0.00',
      credits_applied: '0.00',
      total: '0.00',
      computed_at: now.toISOString(),
    };
    return { ...empty, status: 'upcoming' };
  }

  /**
   * Spend so far in the open period (the upcoming invoice's numbers) and a linear forecast to
   * the period's end: usage grows at the rate seen so far; credits and fee as the plan says.
   */
  async currentSpend(workspaceId: string, now = this.clock.date()) {
    const up = await this.upcoming(workspaceId, now);
    const thresholds =
      (await this.calculator.finalizedThresholds(BillingPeriod.parse(up.period)!, workspaceId)).get(
        workspaceId,
      ) ?? [];
    const f = spendFigures(up, now, thresholds);
    const budget = await this.workspaces.budget(workspaceId);
    const fmt = (m: Money) => ({ amount: formatAmount(m), currency: up.currency });
    const plan = up.credit_grants?.find((g) => g.kind === 'plan');
    const grants = (up.credit_grants ?? []).filter((g) => g.kind !== 'plan');
    return {
      workspace_id: workspaceId,
      period: up.period,
      period_start: up.period_start,
      period_end: up.period_end,
      as_of: now.toISOString(),
      plan: up.plan.plan,
      usage: fmt(f.usage),
      credits_applied: fmt([up, ...thresholds].reduce((a, d) => a.plus(d.credits_applied), new Money(0))),
      // The plan's monthly credits and what is left of them (never below zero).
      credits_left: fmt(
        plan
          ? new Money(plan.balance_after)
          : Money.max(0, new Money(up.plan.monthly_credits).minus(up.credits_applied)),
      ),
      monthly_credits: fmt(new Money(up.plan.monthly_credits)),
      credit_balance: fmt(grants.reduce((a, g) => a.plus(g.balance_after).minus(g.expired), new Money(0))),
      credit_grants: grants.map((g) => ({
        grant_id: g.grant_id,
        kind: g.kind,
        applied: g.applied,
        balance: formatAmount(new Money(g.balance_after).minus(g.expired)),
        expires_at: g.expires_at,
      })),
      plan_fee: fmt(f.planFee),
      adjustments: fmt(f.adjustments),
      spend_so_far: fmt(f.spendSoFar),
      // The part of it threshold invoices billed already (the month-end invoice bills the rest).
      billed_on_threshold_invoices: fmt(thresholds.reduce((a, d) => a.plus(d.total), new Money(0))),
      threshold_invoices: thresholds.map((d) => ({
        id: d.id,
        total: d.total,
        usage_as_of: d.threshold!.usage_as_of,
      })),
      forecast: {
        method: 'linear: usage so far × period length ÷ time elapsed',
        usage: fmt(f.forecastUsage),
        credits_applied: fmt(f.forecastCredits),
        total: fmt(f.forecastTotal),
      },
      budget: budget === null ? null : budgetStatus(budget, f.spendSoFar, f.forecastTotal, up.currency),
    };
  }
}
