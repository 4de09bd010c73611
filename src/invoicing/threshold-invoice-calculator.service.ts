import { Injectable } from '@nestjs/common';
import { Clock } from '../platform/clock';
import { BillingPeriod } from './billing-period';
import { unusedBalance } from './credit-grants';
import { offerGrants, planTermsFor, reserveForMonth, stateOf, thresholdsByMonth } from './grant-allocation';
import { InvoiceDocument } from './invoice';
import { InvoiceCalculator } from './invoice-calculator.service';
import { PeriodInputs } from './period-inputs';
import {
  buildThresholdInvoice,
  heldToThresholds,
  isThresholdInvoice,
  thresholdReached,
} from './threshold-invoices';

/**
 * Threshold invoices (mid-month, progressive billing; src/invoicing/README.md): which
 * workspaces are held to a billing threshold, and the next threshold invoice of each — built
 * by the pure threshold-invoices.ts from the inputs PeriodInputs loads, with the grant state
 * the month starts from (InvoiceCalculator.grantStatesBefore).
 */
@Injectable()
export class ThresholdInvoiceCalculator {
  constructor(
    private readonly inputs: PeriodInputs,
    private readonly invoices: InvoiceCalculator,
    private readonly clock: Clock,
  ) {}

  /** Whether any workspace is held to a billing threshold in `period` (cheap: no usage read). */
  async anyThresholds(period: BillingPeriod): Promise<boolean> {
    const held = heldToThresholds({
      own: await this.inputs.billingThresholds(),
      assignments: await this.inputs.planAssignments(),
      catalog: await this.inputs.catalog(),
      period,
    });
    return held.size > 0;
  }

  /**
   * The next threshold invoice of `period` for every workspace held to a billing threshold
   * (its own, or its plan's) whose month is not finalized, each with whether it is due — its
   * total, the month's spend not billed yet, reached the threshold. Usage as the rollups hold
   * it now (`acceptedByMs` undefined: to find the candidates cheaply), or exactly the events
   * accepted at or before `acceptedByMs` (the invoices to finalize).
   */
  async thresholdInvoices(
    period: BillingPeriod,
    options: { acceptedByMs?: number; workspaceIds?: readonly string[]; now?: Date } = {},
  ): Promise<Array<{ doc: InvoiceDocument; due: boolean }>> {
    const catalog = await this.inputs.catalog();
    const assignments = await this.inputs.planAssignments();
    const own = await this.inputs.billingThresholds();
    const held = heldToThresholds({ own, assignments, catalog, period, workspaceIds: options.workspaceIds });
    if (held.size === 0) return [];
    const stored = await this.inputs.finalized([period]);
    for (const d of stored) if (!isThresholdInvoice(d)) held.delete(d.workspace_id);
    const thresholds = thresholdsByMonth(stored);
    const usage =
      options.acceptedByMs === undefined
        ? await this.inputs.rated(catalog, period)
        : await this.inputs.ratedAcceptedBy(catalog, period, options.acceptedByMs, [...held.keys()].sort());
    const states = await this.invoices.grantStatesBefore(catalog, period, assignments);
    const now = options.now ?? this.clock.date();
    const out: Array<{ doc: InvoiceDocument; due: boolean }> = [];
    for (const [ws, billingThreshold] of [...held].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const charges = usage.get(ws);
      if (charges === undefined) continue;
      const plan = planTermsFor(catalog, assignments.get(ws), period);
      const s = stateOf(states, ws);
      const earlier = thresholds.get(`${ws}/${period.toString()}`) ?? [];
      const before = s.ledger.copy();
      const offered = offerGrants(s, ws, period, plan, reserveForMonth(s, earlier, period));
      const doc = buildThresholdInvoice({
        workspaceId: ws,
        period,
        plan,
        charges,
        grants: offered,
        grantBalances: offered.map(({ grant }) => ({
          grant,
          balance: unusedBalance(grant, before.consumedOf(grant.grant_id)),
        })),
        earlier,
        billingThreshold,
        usageAsOfMs: options.acceptedByMs ?? now.getTime(),
        computedAt: now,
      });
      out.push({ doc, due: thresholdReached(doc, billingThreshold) });
    }
    return out;
  }
}
