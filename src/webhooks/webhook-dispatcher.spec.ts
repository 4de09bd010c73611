import { failingSince } from './webhook-dispatcher.service';
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
