import Stripe from 'stripe';
import { loadConfig } from '../app-config';
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
    // Simulated time (no real waiting, nothing a busy machine can stretch); jitter at its least.
    jest.useFakeTimers();
    jest.spyOn(Math, 'random').mockReturnValue(0);
    try {
      const done = api.createCustomer({ name: 'x' }, 'gpumeter-customer-x');
      await jest.advanceTimersByTimeAsync(124); // the first backoff is 250 ms × (0.5 + 0) = 125 ms
      expect(calls).toBe(1);
      await jest.advanceTimersByTimeAsync(1);
      expect(calls).toBe(2);
      await jest.advanceTimersByTimeAsync(249); // the second: 500 ms × 0.5 = 250 ms
      expect(calls).toBe(2);
      await jest.advanceTimersByTimeAsync(1);
      expect(calls).toBe(3);
      const customer = await done;
      expect(customer.id).toBe('cus_1');
      expect(keys).toEqual(['gpumeter-customer-x', 'gpumeter-customer-x', 'gpumeter-customer-x']);
    } finally {
      jest.useRealTimers();
      jest.restoreAllMocks();
    }
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
