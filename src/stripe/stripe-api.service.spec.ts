import Stripe from 'stripe';
import { loadConfig } from '../config/app-config';
import { StripeApiService } from './stripe-api.service';

describe('StripeApiService', () => {
  it('retries a rate-limited request (429) with backoff, keeping its idempotency key', async () => {
    const api = new StripeApiService(loadConfig({ STRIPE_API_URL: 'http://127.0.0.1:1' }));
    const keys: string[] = [];
    let calls = 0;
    const create = jest.fn(async (_params: unknown, options: { idempotencyKey: string }) => {
      keys.push(options.idempotencyKey);
      if (++calls <= 2) throw new Stripe.errors.StripeRateLimitError({ message: 'Too many requests' });
      return { id: 'cus_1' };
    });
    (api.client.customers as unknown as { create: typeof create }).create = create;
    const started = Date.now();
    const customer = await api.createCustomer({ name: 'x' }, 'gpumeter-customer-x');
    expect(customer.id).toBe('cus_1');
    expect(keys).toEqual(['gpumeter-customer-x', 'gpumeter-customer-x', 'gpumeter-customer-x']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(125 + 250); // two backoffs, jitter ≥ half
  });

  it('does not retry other errors itself (the SDK already retried what is safe)', async () => {
    const api = new StripeApiService(loadConfig({ STRIPE_API_URL: 'http://127.0.0.1:1' }));
    const create = jest.fn(async () => {
      throw new Stripe.errors.StripeInvalidRequestError({ message: 'bad' });
    });
    (api.client.invoiceItems as unknown as { create: typeof create }).create = create;
    await expect(api.createInvoiceItem({ customer: 'cus_1' }, 'k')).rejects.toThrow('bad');
    expect(create).toHaveBeenCalledTimes(1);
  });
});
