import { EndpointCache } from './endpoint-cache';
import { WebhookEndpoint } from './webhooks.repository';

const endpoint = (status: string) => ({ id: 'ep_1', status }) as unknown as WebhookEndpoint;

describe('EndpointCache', () => {
  it('keeps a read for 5 s, and never keeps one that began before a change', async () => {
    let now = 0;
    let stored = [endpoint('enabled')];
    let release: () => void = () => undefined;
    let slow = false;
    let loads = 0;
    const cache = new EndpointCache(
      async () => {
        loads++;
        const seen = stored;
        if (slow) await new Promise<void>((r) => (release = r));
        return seen;
      },
      () => now,
    );
    expect((await cache.byId()).get('ep_1')?.status).toBe('enabled');
    now = 4_999;
    await cache.byId();
    expect(loads).toBe(1);
    now = 5_000;
    slow = true;
    const inFlight = cache.byId(); // begins, sees "enabled"…
    stored = [endpoint('disabled')];
    cache.forget(); // …then the endpoint is disabled
    release();
    expect((await inFlight).get('ep_1')?.status).toBe('enabled');
    slow = false;
    expect((await cache.byId()).get('ep_1')?.status).toBe('disabled'); // not the stale read
    expect(loads).toBe(3);
  });
});
