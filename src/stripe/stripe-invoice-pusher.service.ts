import { Clock } from '../platform/clock';
import { Injectable, Logger } from '@nestjs/common';
import { StripeInvoiceInput } from './stripe-invoice-input';
import { FaultInjection } from '../platform/fault-injection';
import type Stripe from 'stripe';
import { toMinorUnits, Money } from '../catalog/money';
import { InvoicePushedData } from './stripe-events';
import {
  BillingEvent,
  HandledBy,
  newBillingEvent,
  ProjectionOf,
} from '../platform/billing-events/billing-event';
import { BillingEventsService } from '../platform/billing-events/billing-events.service';
import { StripeApiService } from './stripe-api.service';
import { StripeCustomersRepository } from './stripe-customers.repository';

/** Metadata keys gpumeter writes on Stripe objects and finds them again by. */
export const META = {
  workspace: 'gpumeter_workspace_id',
  invoice: 'gpumeter_invoice_id',
  line: 'gpumeter_line_id',
  period: 'gpumeter_period',
} as const;

export interface PushWorkspace {
  id: string;
  name?: string;
  email?: string;
}

/**
 * Customers known for this push session: the projection's links, then (once, lazily) every
 * Stripe customer by metadata — a customer created by a run killed before it published the
 * link is found there instead of being created again.
 */
export class CustomerDirectory {
  private fromStripe?: Promise<Map<string, string>>;
  constructor(readonly linked: Map<string, string>) {}

  async find(workspaceId: string, stripe: StripeApiService): Promise<string | undefined> {
    const known = this.linked.get(workspaceId);
    if (known) return known;
    this.fromStripe ??= stripe.listCustomers().then((all) => {
      const byWorkspace = new Map<string, string>();
      // Oldest first, so that the first customer ever created for a workspace wins.
      for (const c of [...all].sort((a, b) => a.created - b.created)) {
        const ws = c.metadata?.[META.workspace];
        if (ws && !byWorkspace.has(ws)) byWorkspace.set(ws, c.id);
      }
      return byWorkspace;
    });
    return (await this.fromStripe).get(workspaceId);
  }
}

function lineItemId(line: Stripe.InvoiceLineItem): string {
  const l = line as Stripe.InvoiceLineItem & {
    invoice_item?: string;
    parent?: { invoice_item_details?: { invoice_item?: string } };
  };
  return l.parent?.invoice_item_details?.invoice_item ?? l.invoice_item ?? line.id;
}

const Base = ProjectionOf('workspace.stripe_customer_linked');
type Handled = HandledBy<typeof Base>;

/**
 * Pushes a finalized invoice to Stripe exactly once: customer, one invoice item per line,
 * the invoice, its finalization. Every write carries a deterministic Idempotency-Key, and
 * before writing anything the pusher reconciles with what Stripe already holds (by
 * metadata): Stripe forgets idempotency keys after about 24 hours, and the local emulator
 * ignores them. A Stripe invoice whose lines differ from ours is reported, never finalized.
 */
@Injectable()
export class StripeInvoicePusher extends Base {
  private readonly logger = new Logger(StripeInvoicePusher.name);
  private itemsCreated = 0;

  constructor(
    private readonly stripe: StripeApiService,
    private readonly customers: StripeCustomersRepository,
    private readonly billingEvents: BillingEventsService,
    private readonly faults: FaultInjection,
    private readonly clock: Clock,
  ) {
    super();
  }

  async apply(events: readonly BillingEvent<Handled>[]): Promise<void> {
    for (const e of events)
      await this.customers.link(e.subject, e.data.stripe_customer_id, Date.parse(e.time));
  }

  async directory(): Promise<CustomerDirectory> {
    return new CustomerDirectory(await this.customers.all());
  }

  private async customerFor(ws: PushWorkspace, directory: CustomerDirectory): Promise<string> {
    let id = await directory.find(ws.id, this.stripe);
    if (!id) {
      const created = await this.stripe.createCustomer(
        {
          name: ws.name ?? ws.id,
          ...(ws.email ? { email: ws.email } : {}),
          metadata: { [META.workspace]: ws.id },
        },
        `gpumeter-customer-${ws.id}`,
      );
      id = created.id;
    }
    if (directory.linked.get(ws.id) !== id) {
      await this.billingEvents.publish({
        ...newBillingEvent(
          'workspace.stripe_customer_linked',
          ws.id,
          { stripe_customer_id: id },
          this.clock.date(),
        ),
        id: `workspace.stripe_customer_linked:${ws.id}`,
      });
      directory.linked.set(ws.id, id);
    }
    return id;
  }

  private async createItems(doc: StripeInvoiceInput, customer: string): Promise<void> {
    const pending = await this.stripe.listPendingInvoiceItems(customer);
    const foreign = pending.filter((i) => i.metadata?.[META.invoice] && i.metadata[META.invoice] !== doc.id);
    if (foreign.length > 0)
      throw new Error(
        `customer ${customer} has pending items of invoice ${foreign[0].metadata?.[META.invoice]}; ` +
          `push that invoice first (they would be swept into ${doc.id})`,
      );
    const have = new Set(pending.map((i) => i.metadata?.[META.line]).filter(Boolean));
    const start = Math.floor(Date.parse(doc.period_start) / 1000);
    const end = Math.floor(Date.parse(doc.period_end) / 1000);
    for (const line of doc.lines) {
      if (have.has(line.id)) continue;
      await this.stripe.createInvoiceItem(
        {
          customer,
          amount: toMinorUnits(new Money(line.amount)),
          currency: doc.currency,
          description: `${line.description} (${doc.period})`,
          period: { start, end },
          metadata: {
            [META.workspace]: doc.workspace_id,
            [META.invoice]: doc.id,
            [META.line]: line.id,
            [META.period]: doc.period,
          },
        },
        `gpumeter-item-${line.id}`,
      );
      this.itemsCreated++;
      this.faults.afterStripeItems(this.itemsCreated);
    }
  }

  /** Checks that the Stripe invoice holds exactly our lines and amounts; returns line id → item id. */
  private async verify(doc: StripeInvoiceInput, invoice: Stripe.Invoice): Promise<Record<string, string>> {
    const lines = await this.stripe.listInvoiceLines(invoice.id);
    const ours = new Map(doc.lines.map((l) => [l.id, toMinorUnits(new Money(l.amount))]));
    const ids: Record<string, string> = {};
    const problems: string[] = [];
    for (const l of lines) {
      const lineId = l.metadata?.[META.line];
      if (!lineId || !ours.has(lineId)) problems.push(`unexpected line ${l.id} (${l.amount})`);
      else if (ids[lineId]) problems.push(`line ${lineId} twice`);
      else if (ours.get(lineId) !== l.amount)
        problems.push(`line ${lineId}: ${l.amount} ≠ ${ours.get(lineId)}`);
      else ids[lineId] = lineItemId(l);
    }
    for (const id of ours.keys())
      if (!ids[id] && !problems.some((p) => p.includes(id))) problems.push(`line ${id} missing`);
    if (problems.length > 0)
      throw new Error(`Stripe invoice ${invoice.id} does not match ${doc.id}: ${problems.join('; ')}`);
    return ids;
  }

  /** Pushes one finalized invoice; safe to call again after a crash at any point. */
  async push(
    doc: StripeInvoiceInput,
    ws: PushWorkspace,
    directory: CustomerDirectory,
  ): Promise<InvoicePushedData> {
    const customer = await this.customerFor(ws, directory);
    let invoice = (await this.stripe.listInvoices(customer)).find(
      (i) => i.metadata?.[META.invoice] === doc.id,
    );
    if (!invoice) {
      await this.createItems(doc, customer);
      invoice = await this.stripe.createInvoice(
        {
          customer,
          pending_invoice_items_behavior: 'include',
          description: `gpumeter usage ${doc.period}`,
          metadata: { [META.workspace]: doc.workspace_id, [META.invoice]: doc.id, [META.period]: doc.period },
        },
        `gpumeter-invoice-${doc.id}`,
      );
    }
    const itemIds = await this.verify(doc, invoice);
    let finalized = invoice.status !== 'draft';
    if (!finalized) {
      invoice = await this.stripe.finalizeInvoice(invoice.id, `gpumeter-finalize-${doc.id}`);
      finalized = true;
    }
    return {
      invoice_id: doc.id,
      period: doc.period,
      stripe_customer_id: customer,
      stripe_invoice_id: invoice.id,
      stripe_invoice_item_ids: itemIds,
      stripe_finalized: finalized,
      stripe_hosted_invoice_url: invoice.hosted_invoice_url ?? null,
    };
  }
}
