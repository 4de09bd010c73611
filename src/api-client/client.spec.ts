import { allInvoices, gpumeterClient } from './client';

/** A stand-in for the service's GET /v1/invoices: `total` invoices, newest first, pages of `limit`. */
function invoicesApi(total: number) {
  const asked: string[] = [];
  const ids = Array.from({ length: total }, (_, i) => `inv_${String(total - i).padStart(4, '0')}`);
  const fetch = async (input: Request): Promise<Response> => {
    const url = new URL(input.url);
    asked.push(url.search);
    expect(input.headers.get('authorization')).toBe('Bearer wk_test');
    const limit = Number(url.searchParams.get('limit') ?? 100);
    const after = url.searchParams.get('starting_after');
    const from = after === null ? 0 : ids.indexOf(after) + 1;
    const page = ids.slice(from, from + limit).map((id) => ({ id, period: '2026-10' }));
    const body = { invoices: page, has_more: from + limit < ids.length };
    return new Response(JSON.stringify(body), {
      status: 200,
      headers: { 'content-type': 'application/json' },
    });
  };
  return { fetch: fetch as unknown as typeof globalThis.fetch, asked };
}

describe('allInvoices: every page of GET /v1/invoices, not only the first 100', () => {
  it.each([
    [0, 1],
    [99, 1],
    [100, 1],
    [101, 2],
    [250, 3],
  ])('%i invoices: all of them, in order, in %i request(s)', async (total, requests) => {
    const { fetch, asked } = invoicesApi(total);
    const client = gpumeterClient({ baseUrl: 'http://gpumeter.test/', token: 'wk_test', fetch });
    const all = await allInvoices(client);
    expect(all.map((i) => i.id)).toEqual(
      Array.from({ length: total }, (_, i) => `inv_${String(total - i).padStart(4, '0')}`),
    );
    expect(asked).toHaveLength(requests);
    expect(asked[0]).toBe('?limit=100');
    if (requests > 1) expect(asked[1]).toBe(`?limit=100&starting_after=${all[99].id}`);
  });

  it('names the call and the API’s message when it is refused', async () => {
    const fetch = (async () =>
      new Response(JSON.stringify({ error: { code: 'unauthorized', message: 'unknown key' } }), {
        status: 401,
        headers: { 'content-type': 'application/json' },
      })) as unknown as typeof globalThis.fetch;
    await expect(
      allInvoices(gpumeterClient({ baseUrl: 'http://x.test', token: 't', fetch })),
    ).rejects.toThrow('GET /v1/invoices: HTTP 401 unknown key');
  });
});
