import { Clock } from '../platform/clock';
import { StripeConfig } from './stripe.config';
import { Controller, Headers, HttpCode, Logger, Post, Req } from '@nestjs/common';
import { ApiExcludeEndpoint } from '@nestjs/swagger';
import type { RawBodyRequest } from '@nestjs/common';
import type { Request } from 'express';
import type Stripe from 'stripe';
import { Public } from '../common/access';
import { InvoicePaymentData } from './stripe-events';
import { newBillingEvent } from '../platform/billing-events/billing-event';
import { BillingEventsService } from '../platform/billing-events/billing-events.service';
import { ApiError, ApiErrorCode } from '../common/api-error';
import { StripeApiService } from './stripe-api.service';
import { META } from './stripe-invoice-pusher.service';
import { WORKSPACE_ID_PATTERN } from '../common/ids';

function failureReason(invoice: Stripe.Invoice | undefined): string {
  const message: unknown = invoice?.last_finalization_error?.message;
  return typeof message === 'string' && message.isWellFormed() ? message.slice(0, 500) : 'payment failed';
}

/** Stripe's event type → the billing event it becomes. */
const MAPPED: Record<string, 'invoice.paid' | 'invoice.payment_failed'> = {
  'invoice.paid': 'invoice.paid',
  'invoice.payment_failed': 'invoice.payment_failed',
};

/**
 * Stripe → gpumeter. The signature is checked on the raw body (a bad or stale one is a 400
 * and changes nothing); each Stripe event id is handled once — the billing event it becomes
 * has the id `stripe:<event id>`, and a delivery whose id was already published is only
 * acknowledged. Events about invoices gpumeter did not create are acknowledged and ignored.
 */
@Public() // Stripe proves itself by the signature of each event (checked below)
@Controller('v1/stripe')
export class StripeWebhooksController {
  private readonly logger = new Logger(StripeWebhooksController.name);
  // Deliveries are handled one at a time in a process, so a redelivery racing the first
  // copy still finds it published.
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly config: StripeConfig,
    private readonly stripe: StripeApiService,
    private readonly billingEvents: BillingEventsService,
    private readonly clock: Clock,
  ) {}

  @Post('webhooks')
  @HttpCode(200)
  @ApiExcludeEndpoint()
  async receive(@Req() req: RawBodyRequest<Request>, @Headers('stripe-signature') signature?: string) {
    const secret = this.config.STRIPE_WEBHOOK_SECRET;
    if (!secret) throw new ApiError(ApiErrorCode.Unavailable, 'STRIPE_WEBHOOK_SECRET is not configured');
    if (!signature || !req.rawBody)
      throw ApiError.invalid('Stripe-Signature', 'missing Stripe-Signature header or body');
    let event: Stripe.Event;
    try {
      event = this.stripe.constructWebhookEvent(req.rawBody, signature, secret);
    } catch (e) {
      throw ApiError.invalid('Stripe-Signature', `signature verification failed: ${(e as Error).message}`);
    }
    const run = this.queue.then(() => this.handle(event));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async handle(event: Stripe.Event): Promise<{ received: true; handled: string }> {
    const type =
      typeof event.type === 'string' && Object.hasOwn(MAPPED, event.type) ? MAPPED[event.type] : undefined;
    if (!type) return { received: true, handled: 'ignored: event type' };
    // Signed is not the same as well-formed: every value used below is checked for its type.
    const invoice = (event.data as { object?: unknown } | undefined)?.object as Stripe.Invoice | undefined;
    const metadata: unknown = invoice?.metadata;
    const read = (key: string): string | undefined => {
      const v =
        metadata !== null && typeof metadata === 'object'
          ? (metadata as Record<string, unknown>)[key]
          : undefined;
      return typeof v === 'string' && v.isWellFormed() ? v : undefined;
    };
    const invoiceId = read(META.invoice);
    const workspaceId = read(META.workspace);
    if (
      typeof event.id !== 'string' ||
      !event.id.isWellFormed() ||
      !invoiceId ||
      invoiceId.length > 256 ||
      !workspaceId ||
      !WORKSPACE_ID_PATTERN.test(workspaceId)
    ) {
      this.logger.warn(
        `Stripe event ${String(event.id).slice(0, 80)} (${event.type}) is not about an invoice gpumeter created (or its metadata is not ours): ignored`,
      );
      return { received: true, handled: 'ignored: not a gpumeter invoice' };
    }
    const id = `stripe:${event.id}`;
    if (await this.billingEvents.exists(id)) return { received: true, handled: 'duplicate' };
    const data: InvoicePaymentData = {
      invoice_id: invoiceId,
      stripe_event_id: event.id,
      stripe_invoice_id: typeof invoice?.id === 'string' && invoice.id.isWellFormed() ? invoice.id : '',
      ...(type === 'invoice.payment_failed' ? { reason: failureReason(invoice) } : {}),
    };
    await this.billingEvents.publish({ ...newBillingEvent(type, workspaceId, data, this.clock.date()), id });
    return { received: true, handled: type };
  }
}
