/**
 * The Stripe emulators that `gpumeter stack up` starts answer as the invoicing work (issue 4)
 * relies on: localstripe keeps state; stripe-mock validates requests against Stripe's spec.
 */
const LOCALSTRIPE = 'http://127.0.0.1:8420';
const STRIPE_MOCK = 'http://127.0.0.1:12111';
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

async function stripe(base: string, method: string, path: string, body?: Record<string, string>) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: 'Bearer sk_test_gpumeterlocal',
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: body ? form(body) : method === 'POST' ? '' : undefined,
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
}

describe('Stripe emulators of the local stack', () => {
  it('localstripe keeps what it is given (customers found again by metadata)', async () => {
    const tag = `ws_${Date.now()}`;
    const created = await stripe(LOCALSTRIPE, 'POST', '/v1/customers', {
      email: `${tag}@example.test`,
      'metadata[workspace_id]': tag,
    });
    expect(created.status).toBe(200);
    const fetched = await stripe(LOCALSTRIPE, 'GET', `/v1/customers/${created.body.id as string}`);
    expect(fetched.body.metadata).toEqual({ workspace_id: tag });
  });

  it('stripe-mock accepts valid requests and refuses invalid ones', async () => {
    expect((await stripe(STRIPE_MOCK, 'POST', '/v1/customers', { email: 'a@example.test' })).status).toBe(
      200,
    );
    const bad = await stripe(STRIPE_MOCK, 'POST', '/v1/customers', { not_a_stripe_parameter: '1' });
    expect(bad.status).toBe(400);
    expect((await stripe(STRIPE_MOCK, 'POST', '/v1/invoices/in_123/finalize')).status).toBe(200);
  });
});
