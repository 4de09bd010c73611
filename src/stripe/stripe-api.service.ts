import { Injectable, Logger } from '@nestjs/common';
import { StripeConfig } from './stripe.config';
import Stripe from 'stripe';
import { MetricsService } from '../platform/metrics/metrics.service';

const RATE_LIMIT_RETRIES = 6;

/** Every item of a paginated Stripe list. */
async function all<T>(list: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of list) out.push(item);
  return out;
}

function isRateLimited(e: unknown): boolean {
  return (
    e instanceof Stripe.errors.StripeRateLimitError || (e as { statusCode?: number })?.statusCode === 429
  );
}

/**
 * The one door to Stripe: the official SDK, pointed at STRIPE_API_URL when it is set (an
 * emulator), with a deterministic Idempotency-Key on every write. The SDK retries network
 * errors, 409 and 5xx itself (idempotency keys make that safe); 429 is retried here with
 * exponential backoff and jitter. Callers bound concurrency (STRIPE_MAX_CONCURRENCY).
 */
@Injectable()
export class StripeApiService {
  private readonly logger = new Logger('Stripe');
  readonly client: Stripe;
  /** Requests sent (including retries by this class); for benchmarks and metrics. */
  requests = 0;

  constructor(
    private readonly config: StripeConfig,
    metrics?: MetricsService,
  ) {
    const url = config.STRIPE_API_URL ? new URL(config.STRIPE_API_URL) : undefined;
    this.client = new Stripe(config.STRIPE_SECRET_KEY ?? '', {
      maxNetworkRetries: 3,
      timeout: 30_000,
      appInfo: { name: 'gpumeter' },
      ...(url
        ? {
            host: url.hostname,
            port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
            protocol: url.protocol === 'https:' ? 'https' : 'http',
          }
        : {}),
    });
    this.client.on('response', (r: { method: string; path: string; status: number }) =>
      metrics?.stripeRequests.inc({
        method: r.method,
        path: r.path.split('?')[0].replace(/\/(cus|ii|in|il|evt|pi|ch)_[A-Za-z0-9]+/g, '/:id'),
        status: String(r.status),
      }),
    );
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      this.requests++;
      try {
        return await fn();
      } catch (e) {
        if (!isRateLimited(e) || attempt >= RATE_LIMIT_RETRIES) throw e;
        const delay = Math.min(8000, 250 * 2 ** attempt) * (0.5 + Math.random() / 2);
        this.logger.warn(`${what}: rate limited by Stripe, retrying in ${Math.round(delay)} ms`);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /** Every customer (auto-paginated); used once per run to find customers by metadata. */
  async listCustomers(): Promise<Stripe.Customer[]> {
    return this.call('list customers', () => all(this.client.customers.list({ limit: 100 })));
  }

  async createCustomer(
    params: Stripe.CustomerCreateParams,
    idempotencyKey: string,
  ): Promise<Stripe.Customer> {
    return this.call('create customer', () => this.client.customers.create(params, { idempotencyKey }));
  }

  /** A customer's invoices (newest first), all of them. */
  async listInvoices(customer: string): Promise<Stripe.Invoice[]> {
    return this.call('list invoices', () => all(this.client.invoices.list({ customer, limit: 100 })));
  }

  /** A customer's invoice items not yet on an invoice. */
  async listPendingInvoiceItems(customer: string): Promise<Stripe.InvoiceItem[]> {
    // Filtered here rather than with `pending: true`, which the local emulator refuses.
    const items = await this.call('list invoice items', () =>
      all(this.client.invoiceItems.list({ customer, limit: 100 })),
    );
    return items.filter((i) => !i.invoice);
  }

  async createInvoiceItem(
    params: Stripe.InvoiceItemCreateParams,
    idempotencyKey: string,
  ): Promise<Stripe.InvoiceItem> {
    return this.call('create invoice item', () =>
      this.client.invoiceItems.create(params, { idempotencyKey }),
    );
  }

  async createInvoice(params: Stripe.InvoiceCreateParams, idempotencyKey: string): Promise<Stripe.Invoice> {
    return this.call('create invoice', () => this.client.invoices.create(params, { idempotencyKey }));
  }

  /** Every line of an invoice (Stripe inlines only the first few). */
  async listInvoiceLines(invoiceId: string): Promise<Stripe.InvoiceLineItem[]> {
    return this.call('list invoice lines', () =>
      all(this.client.invoices.listLineItems(invoiceId, { limit: 100 })),
    );
  }

  async finalizeInvoice(id: string, idempotencyKey: string): Promise<Stripe.Invoice> {
    return this.call('finalize invoice', () =>
      this.client.invoices.finalizeInvoice(id, { auto_advance: true }, { idempotencyKey }),
    );
  }

  /** Verifies a webhook's Stripe-Signature on the raw body; throws when it does not hold. */
  constructWebhookEvent(rawBody: Buffer, signature: string, secret: string): Stripe.Event {
    return this.client.webhooks.constructEvent(rawBody, signature, secret);
  }
}
