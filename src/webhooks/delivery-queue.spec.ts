import { DAY_MS } from '../common/time';
import { decideAttempt, DeliveryQueue, failingSince, failingTooLong, Pending } from './delivery-queue';
import { foldEndpoint } from './webhooks.repository';

describe('failingSince: when an endpoint began failing without a break', () => {
  const a = (at: number, outcome: string) => ({ attempted_at_ms: at, outcome });
  it('is the first failure after the last success', () => {
    expect(failingSince([])).toBeNull();
    expect(failingSince([a(1, 'failed'), a(2, 'succeeded')])).toBeNull();
    expect(failingSince([a(5, 'failed'), a(1, 'failed'), a(2, 'succeeded'), a(7, 'gave_up')])).toBe(5);
    expect(failingSince([a(1, 'failed'), a(3, 'failed')])).toBe(1);
  });
});

describe('foldEndpoint: an endpoint disabled and enabled again', () => {
  const created = {
    type: 'webhook_endpoint.created' as const,
    at_ms: 10,
    data: {
      id: 'ep_1',
      workspace_id: 'ws',
      url: 'https://x.test/h',
      events: ['invoice.paid' as const],
      description: '',
      secret: 's',
    },
  };
  const disabled = (at: number) => ({
    type: 'webhook_endpoint.disabled' as const,
    at_ms: at,
    data: { id: 'ep_1', reason: 'failing' as const, detail: 'no successful delivery for 5 days' },
  });
  const enabled = (at: number) => ({
    type: 'webhook_endpoint.enabled' as const,
    at_ms: at,
    data: { id: 'ep_1' },
  });

  it('is enabled again from its enabling on, and counts failures only from then', () => {
    expect(foldEndpoint([created])).toMatchObject({ status: 'enabled', enabled_at_ms: 10 });
    expect(foldEndpoint([created, disabled(20)])).toMatchObject({
      status: 'disabled',
      disabled_reason: 'failing: no successful delivery for 5 days',
      enabled_at_ms: 10,
    });
    // In any order they were read: folded in time order.
    expect(foldEndpoint([enabled(30), disabled(20), created])).toMatchObject({
      status: 'enabled',
      disabled_reason: null,
      enabled_at_ms: 30,
    });
    // Enabling an enabled endpoint changes nothing; a second disable after enabling holds.
    expect(foldEndpoint([created, enabled(15)])).toMatchObject({ status: 'enabled', enabled_at_ms: 10 });
    expect(foldEndpoint([created, disabled(20), enabled(30), disabled(40)])).toMatchObject({
      status: 'disabled',
      enabled_at_ms: 30,
    });
  });
});

describe('decideAttempt: what an answer means for the next attempt', () => {
  // The default schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (index = attempts made).
  const schedule = [0, 5, 300, 1800, 7200, 18000, 36000, 36000].map((s) => s * 1000);
  it.each([
    [200, 1, { outcome: 'succeeded', nextAtMs: null, gone: false }],
    [204, 8, { outcome: 'succeeded', nextAtMs: null, gone: false }],
    [410, 1, { outcome: 'gave_up', nextAtMs: null, gone: true }],
    [500, 1, { outcome: 'failed', nextAtMs: 1_000_000 + 5_000, gone: false }],
    [0, 2, { outcome: 'failed', nextAtMs: 1_000_000 + 300_000, gone: false }],
    [429, 7, { outcome: 'failed', nextAtMs: 1_000_000 + 36_000_000, gone: false }],
    [500, 8, { outcome: 'gave_up', nextAtMs: null, gone: false }],
  ])('status %i on attempt %i', (status, attempt, expected) => {
    expect(decideAttempt(status, attempt, schedule, 1_000_000)).toEqual(expected);
  });
});

describe('failingTooLong: the disable policy, on the clock', () => {
  it.each([
    [0, 5 * DAY_MS - 1, false],
    [0, 5 * DAY_MS, true],
    [DAY_MS, 5 * DAY_MS, false],
  ])('failing since %i, now %i: %s', (since, now, expected) => {
    expect(failingTooLong(since, now, 5)).toBe(expected);
  });
});

describe('DeliveryQueue: due messages within the concurrency limits', () => {
  const msg = (id: string, endpointId: string, dueAtMs: number): Pending => ({
    id,
    endpointId,
    workspaceKey: 'ws',
    body: '{}',
    attemptsMade: 0,
    dueAtMs,
  });

  it('starts what is due, oldest first, at most per endpoint and in all', () => {
    const q = new DeliveryQueue({ total: 3, perEndpoint: 2 });
    for (const m of [
      msg('a1', 'a', 3),
      msg('a2', 'a', 1),
      msg('a3', 'a', 2),
      msg('b1', 'b', 4),
      msg('c1', 'c', 50),
    ])
      q.add(m);
    expect(q.startDue(10).map((p) => p.id)).toEqual(['a2', 'a3', 'b1']);
    expect(q.startDue(100).map((p) => p.id)).toEqual([]); // 3 in flight: none more
    q.finished(msg('a2', 'a', 1));
    expect(q.startDue(100).map((p) => p.id)).toEqual(['a1']);
    q.finished(msg('b1', 'b', 4));
    expect(q.startDue(100).map((p) => p.id)).toEqual(['c1']);
  });

  it('queues a message once, never again once settled, unless a retry is asked for', () => {
    const q = new DeliveryQueue({ total: 10, perEndpoint: 10 });
    expect(q.add(msg('m', 'e', 0))).toBe(true);
    expect(q.add(msg('m', 'e', 0))).toBe(false); // queued
    const [m] = q.startDue(0);
    expect(q.add(msg('m', 'e', 0))).toBe(false); // running
    q.finished(m);
    q.settle('m');
    expect(q.add(msg('m', 'e', 0))).toBe(false); // settled
    q.requeue(msg('m', 'e', 5));
    expect(q.startDue(4)).toEqual([]);
    expect(q.startDue(5).map((p) => p.id)).toEqual(['m']);
  });

  it('drops what this replica no longer owns', () => {
    const q = new DeliveryQueue({ total: 10, perEndpoint: 10 });
    q.add({ ...msg('x', 'e', 0), workspaceKey: 'ws_x' });
    q.add({ ...msg('y', 'e', 0), workspaceKey: 'ws_y' });
    q.dropWhere((p) => p.workspaceKey === 'ws_x');
    expect(q.startDue(0).map((p) => p.id)).toEqual(['y']);
  });
});
