import { randomBytes } from 'node:crypto';
import { chReader, projectionSnapshot as snapshot } from './support/clickhouse';
import { api, postEvents } from './support/http';
import {
  createPlannedWorkspaces,
  LOCALSTRIPE_BILLING_ENV,
  monthBack,
  runCli,
  usageEvents,
} from './support/billing';
import { testKafka } from './support/kafka';
import { until } from './support/wait';
import { ServiceProcess } from './support/service-process';
import { ADMIN_KEY, isolatedEnv } from './support/test-env';

describe('replay: every ClickHouse projection rebuilt from Kafka', () => {
  it('a replay into a new database reproduces usage, rollups, workspaces, catalog and invoices exactly, without dead-lettering again', async () => {
    const tag = randomBytes(3).toString('hex');
    const env = await isolatedEnv('replay', LOCALSTRIPE_BILLING_ENV);
    const svc = await new ServiceProcess('replay', env, 'all').start();
    const ch = chReader(env);
    const replayed = chReader({ ...env, CLICKHOUSE_DATABASE: `${env.CLICKHOUSE_DATABASE}_r` });
    const kafka = testKafka(env);
    try {
      const workspaces = ['a', 'b', 'c'].map((x) => `rp${tag}-${x}`);
      await createPlannedWorkspaces(svc.url, workspaces, (i) => (i === 0 ? 'team' : 'starter'));
      for (const [i, limit] of ['750.00', null].entries())
        expect(
          (
            await api(svc.url, 'PUT', `/v1/workspaces/${workspaces[i]}/budget`, ADMIN_KEY, {
              monthly_limit: limit,
            })
          ).status,
        ).toBe(200);
      const month = monthBack(2);
      expect(
        (
          await api(svc.url, 'POST', '/v1/catalog/price-changes', ADMIN_KEY, {
            effective_from: new Date(month.start + 10 * 86_400_000).toISOString(),
            gpu_per_second: { A10G: '0.0003' },
          })
        ).status,
      ).toBe(201);
      const { events } = usageEvents({
        workspaces,
        perWorkspace: 200,
        fromMs: month.start,
        toMs: month.end,
        seed: 51,
        idPrefix: tag,
      });
      await postEvents(svc.url, events);
      await postEvents(svc.url, events.slice(0, 150)); // re-sent: stored once
      await kafka.produce(kafka.topic('usage.events.v1'), [{ key: 'x', value: 'not json' }]);
      // What an older build wrote for POST /v1/invoice-runs {"period":"0000-01"} (issue 8): Kafka
      // keeps it forever, so the live consumer and every replay must pass it over.
      const bogusClose = {
        specversion: '1.0',
        id: 'invoice.period_closed:0-01',
        source: 'gpumeter',
        type: 'invoice.period_closed',
        subject: 'gpumeter',
        time: new Date().toISOString(),
        data: { period: '0-01', run_id: 'run_old' },
      };
      await kafka.produce(kafka.topic('billing.events.v1'), [
        { key: 'gpumeter', value: JSON.stringify(bogusClose) },
      ]);
      const dlq = kafka.topic('usage.events.dlq.v1');
      const billingDlq = kafka.topic('billing.events.dlq.v1');
      const deadline = Date.now() + 60_000;
      while (
        (await kafka.messageCount(dlq)) < 1 ||
        (await kafka.messageCount(billingDlq)) < 1 ||
        (await ch.totals()).hourlyEvents < BigInt(events.length)
      ) {
        if (Date.now() > deadline) throw new Error('events not stored');
        await new Promise((r) => setTimeout(r, 250));
      }
      const run = await api(svc.url, 'POST', '/v1/invoice-runs', ADMIN_KEY, { period: month.period });
      let state = run.body;
      for (const until = Date.now() + 60_000; state.status === 'running' && Date.now() < until;) {
        await new Promise((r) => setTimeout(r, 300));
        state = (await api(svc.url, 'GET', `/v1/invoice-runs/${run.body.id}`, ADMIN_KEY)).body;
      }
      expect(state.status).toBe('completed');
      // The service's own billing consumer has projected every billing event (its group has
      // committed the topic's end) before the snapshot is taken.
      await until(
        'the billing consumer caught up',
        () => kafka.caughtUp(kafka.topic('billing.events.v1'), `${env.KAFKA_CONSUMER_GROUP}-billing`),
        30_000,
      );
      const original = await snapshot(ch);
      expect(original.budgets).toHaveLength(2);
      expect(original.invoices).toHaveLength(3);
      expect(original.usageEvents).toEqual([expect.objectContaining({ n: String(events.length) })]);
      expect(original.hourly.length).toBeGreaterThan(100);
      expect(original.runs.length).toBe(1);
      const dlqBefore = await kafka.messageCount(dlq);
      const billingDlqBefore = await kafka.messageCount(billingDlq);
      expect(original.closed).toEqual([expect.objectContaining({ period: month.period })]);

      const result = await runCli(env, ['replay', '--database', `${env.CLICKHOUSE_DATABASE}_r`]);
      expect(result.code).toBe(0);
      const summary = JSON.parse(result.stdout.trim().split('\n').pop()!);
      expect(summary).toMatchObject({
        database: `${env.CLICKHOUSE_DATABASE}_r`,
        usage_events: String(events.length),
        invalid_messages_passed_over: 1,
        invalid_billing_records_passed_over: 1,
      });
      expect(await snapshot(replayed)).toEqual(original);
      expect(await kafka.messageCount(dlq)).toBe(dlqBefore);
      expect(await kafka.messageCount(billingDlq)).toBe(billingDlqBefore);

      const again = await runCli(env, ['replay', '--database', `${env.CLICKHOUSE_DATABASE}_r`]);
      expect(again.code).toBe(2);
      expect(again.stdout).toContain('already holds usage events');
      const live = await runCli(env, ['replay', '--database', env.CLICKHOUSE_DATABASE]);
      expect(live.code).toBe(2);
    } finally {
      await svc.kill();
      await ch.close();
      await replayed.close();
      await kafka.close();
    }
  });
});
