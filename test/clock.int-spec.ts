import { randomBytes } from 'node:crypto';
import { sampleUsageEvent } from '../src/ingestion/usage-event/usage-event.fixtures';
import { api, createWorkspace, postEvents } from './support/http';
import { LOCALSTRIPE_BILLING_ENV } from './support/billing';
import { chReader } from './support/clickhouse';
import { testKafka } from './support/kafka';
import { ServiceProcess } from './support/service-process';
import { ADMIN_KEY, isolatedEnv } from './support/test-env';
import { WebhookReceiver } from './support/webhook-receiver';
import { monthStart, periodOf, until as waitUntil } from './support/wait';

/**
 * Issue 25: time is a dependency. The service's Clock, set with GPUMETER_CLOCK_OFFSET, lets a
 * test cross a month end and a grant's expiry as time passes — not by restarting with other
 * settings — and meet the five-day webhook disable policy without waiting five days.
 */
jest.setTimeout(300_000);

const DAY = 86_400_000;

describe("the service's clock (GPUMETER_CLOCK_OFFSET)", () => {
  it('a month end crossed by the clock: the scheduler finalizes the month, and a grant expiring at that instant credits that month and not the next', async () => {
    // The service's "now" is 30 s before the next month starts, and runs on from there.
    const realNow = Date.now();
    const monthEnd = monthStart(realNow, 1);
    const offsetMs = monthEnd - 30_000 - realNow;
    const env = await isolatedEnv('clockmonth', {
      ...LOCALSTRIPE_BILLING_ENV,
      GPUMETER_CLOCK_OFFSET: `${offsetMs}ms`,
      INVOICE_GRACE_HOURS: '0',
      INVOICE_SCHEDULER_INTERVAL_SECONDS: '1',
      EVENT_MAX_AGE_DAYS: '35',
    });
    const svc = await new ServiceProcess('clock-month', env, 'all').start();
    const ch = chReader(env);
    try {
      const ws = `clk${randomBytes(3).toString('hex')}`;
      const key = await createWorkspace(svc.url, ws);
      const month = periodOf(monthEnd - 1);
      // A grant that expires exactly when the month ends, and usage late in the month (its time is
      // the service's: the events' validity window follows its clock).
      const grant = await api(svc.url, 'POST', `/v1/workspaces/${ws}/credit-grants`, ADMIN_KEY, {
        amount: '1000.00',
        kind: 'promotional',
        reason: 'expires with the month',
        expires_at: new Date(monthEnd).toISOString(),
      });
      expect(grant.status).toBe(201);
      // Ten containers of 8 H100, 4 cores and 32 GiB for 50 minutes each, ending in the last hour.
      const events = Array.from({ length: 10 }, (_, i) => {
        const end = monthEnd - 3_600_000 + i * 60_000;
        return sampleUsageEvent(end, {
          subject: ws,
          id: `clk-${i}`,
          'data.started_at': new Date(end - 3_000_000).toISOString(),
        });
      });
      await postEvents(svc.url, events);
      await waitUntil(
        'usage stored',
        async () => (await ch.totals(ws)).hourlyEvents >= BigInt(events.length),
      );
      const before = await api(svc.url, 'GET', `/v1/workspaces/${ws}/credit-grants`, key);
      expect(before.body.grants[0]).toMatchObject({ status: 'active', balance: '1000.00' });
      // The scheduler has nothing to finalize yet: the month has not ended on the service's clock.
      const listed = async () =>
        (await api(svc.url, 'GET', `/v1/invoices?period=${month}`, key)).body.invoices as Array<{
          status: string;
          lines: Array<{ key: string; amount: string }>;
        }>;
      expect((await listed()).filter((i) => i.status !== 'draft')).toEqual([]);

      // The clock crosses the month end (about 30 s of real time): the month is invoiced by itself.
      await waitUntil(
        'the month finalized by the scheduler',
        async () => (await listed()).some((i) => ['pushed', 'finalized'].includes(i.status)),
        120_000,
      );
      expect(Date.now() + offsetMs).toBeGreaterThanOrEqual(monthEnd);
      const [invoice] = await listed();
      // 10 × 8 × 3,000 s = 240,000 GPU-s × 0.001097 = 263.28; 120,000 core-s × 0.0000131 = 1.572
      // → 1.57; 960,000 GiB-s × 0.00000222 = 2.1312 → 2.13: 266.98 of usage, the plan's 30.00 of
      // credits first, the grant the other 236.98 — it was in force in that month.
      expect(invoice.lines.map((l) => [l.key, l.amount])).toEqual([
        ['gpu:H100', '263.28'],
        ['cpu', '1.57'],
        ['memory', '2.13'],
        ['credits', '-30.00'],
        [`credit_grant:${grant.body.grant_id}`, '-236.98'],
      ]);
      const after = await api(svc.url, 'GET', `/v1/workspaces/${ws}/credit-grants`, key);
      expect(after.body.grants[0]).toMatchObject({ status: 'expired', balance: '0.00' });
      // Expired at the month's end with 763.02 unused: the next month gets nothing of it.
      const spend = await api(svc.url, 'GET', '/v1/spend/current', key);
      expect(spend.body.period).toBe(periodOf(monthEnd));
      expect(spend.body.credit_balance).toEqual({ amount: '0.00', currency: 'usd' });
    } finally {
      await ch.close();
      await svc.kill();
    }
  });

  it('an endpoint failing for five days (on the clock) is disabled exactly once', async () => {
    const receiver = await new WebhookReceiver().start();
    const env = await isolatedEnv('clockhook', { WEBHOOK_RETRY_SCHEDULE_SECONDS: '0,1,1,1,1,1,1,1' });
    let svc = await new ServiceProcess('clock-hook', env, 'all').start();
    const kafka = testKafka(env);
    try {
      const ws = `clh${randomBytes(3).toString('hex')}`;
      const key = await createWorkspace(svc.url, ws);
      const operator = await api(svc.url, 'POST', '/v1/webhook-endpoints', ADMIN_KEY, {
        url: receiver.url('/operator'),
        events: ['endpoint.disabled'],
      });
      const ep = await api(svc.url, 'POST', '/v1/webhook-endpoints', key, {
        url: receiver.url('/down'),
        events: ['invoice.paid'],
      });
      receiver.answers.set('/down', Array(100).fill(500));
      expect((await api(svc.url, 'POST', `/v1/webhook-endpoints/${ep.body.id}/test`, key)).status).toBe(202);
      await receiver.waitFor('failed attempts', () => receiver.at('/down').length >= 2);
      // Days of failures pass in an instant: the same deployment, its clock five days on.
      await svc.kill();
      svc = await new ServiceProcess('clock-hook', env, 'all').start({
        GPUMETER_CLOCK_OFFSET: `${5 * DAY + 60_000}ms`,
      });
      for (let i = 0; i < 3; i++)
        expect((await api(svc.url, 'POST', `/v1/webhook-endpoints/${ep.body.id}/test`, key)).status).toBe(
          202,
        );
      await waitUntil(
        'disabled',
        async () =>
          (await api(svc.url, 'GET', `/v1/webhook-endpoints/${ep.body.id}`, key)).body.status === 'disabled',
      );
      const disabled = (await api(svc.url, 'GET', `/v1/webhook-endpoints/${ep.body.id}`, key)).body;
      expect(disabled.disabled_reason).toBe('failing: no successful delivery for 5 days');
      // Exactly once: every message has settled (the rest gave up on a disabled endpoint) and the
      // dispatcher read everything; one disable event, one endpoint.disabled to the operator.
      await waitUntil('every message settled', async () => {
        const caught = await kafka.caughtUp(
          kafka.topic('billing.events.v1'),
          `${env.KAFKA_CONSUMER_GROUP}-webhooks`,
        );
        const log = (await api(svc.url, 'GET', `/v1/webhook-endpoints/${ep.body.id}/deliveries`, key)).body
          .deliveries as Array<{ status: string }>;
        return caught && log.length === 4 && log.every((d) => d.status === 'gave_up');
      });
      const topic = kafka.topic('billing.events.v1');
      const billing = await kafka.readAll(topic, await kafka.messageCount(topic), 30_000);
      // Attempts in flight together may each publish the decision: one id, so one decision.
      const disables = billing
        .map((m) => JSON.parse(m.value) as { id: string; type: string })
        .filter((e) => e.type === 'webhook_endpoint.disabled');
      expect(disables.length).toBeGreaterThan(0);
      expect([...new Set(disables.map((e) => e.id))]).toHaveLength(1);
      await waitUntil('the operator told', async () => receiver.at('/operator').length >= 1);
      await waitUntil('the operator endpoint settled', async () => {
        const log = (
          await api(svc.url, 'GET', `/v1/webhook-endpoints/${operator.body.id}/deliveries`, ADMIN_KEY)
        ).body.deliveries as Array<{ status: string }>;
        return log.length >= 1 && log.every((d) => d.status === 'succeeded');
      });
      expect(receiver.at('/operator').map((d) => [d.json.type, d.json.data.endpoint_id])).toEqual([
        ['endpoint.disabled', ep.body.id],
      ]);
    } finally {
      await kafka.close();
      await svc.kill();
      await receiver.stop();
    }
  });
});
