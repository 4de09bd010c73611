import { packUsageRecords } from '../src/ingestion/usage-event/usage-records';
import { chReader, stored } from './support/clickhouse';
import { testKafka } from './support/kafka';
import { ServiceProcess } from './support/service-process';
import { isolatedEnv } from './support/test-env';
import { generateEvents, sum, waitFor } from './support/workload';

/**
 * Consumers scaled out (issue 12): three consumer processes in one group, one SIGKILLed
 * mid-stream and another started. Every copy of a (source, id) — re-sent in a batch record,
 * re-sent under another workspace, or written in the old shape keyed by workspace (which lands
 * in another partition) — is stored once, raw and hourly, whichever process reads it.
 */
describe('scale-out: several consumers, one SIGKILLed, copies under other keys and partitions', () => {
  it('three consumers, one killed and replaced: totals exact, every copy counted once', async () => {
    const env = await isolatedEnv('scaleout', {
      KAFKA_USAGE_PARTITIONS: '6',
      CONSUMER_MAX_BATCH_EVENTS: '2000',
    });
    const ch = chReader(env);
    const kafka = testKafka(env);
    const consumers = [1, 2, 3].map((n) => new ServiceProcess(`scaleout-consumer-${n}`, env, 'consumer'));
    try {
      const workspaces = ['ws_a', 'ws_b', 'ws_c', 'ws_d'];
      const sources = Array.from({ length: 12 }, (_, i) => `agent://rack-${i}`);
      const batches = sources.map((source, i) =>
        generateEvents({ count: 5_000, workspaces, seed: 100 + i, source }),
      );
      const events = batches.flatMap((b) => b.events);
      const expected = new Map<string, bigint>();
      for (const b of batches)
        for (const [ws, ms] of b.expectedGpuMs) expected.set(ws, (expected.get(ws) ?? 0n) + ms);
      const topic = kafka.topic('usage.events.v1');
      const asRecords = (list: typeof events) =>
        packUsageRecords(list.map((e) => ({ source: e.source, json: JSON.stringify(e) }))).records.map(
          ({ key, value }) => ({ key, value }),
        );

      for (const c of consumers) await c.start();
      // The originals, as agents write them now: batch records keyed by source.
      await kafka.produce(topic, asRecords(events.slice(0, 30_000)));
      await waitFor(
        'some stored before the kill',
        () => ch.totals(),
        (t) => t.rawEvents > 0n,
      );
      await consumers[1].kill('SIGKILL');
      const replacement = new ServiceProcess('scaleout-consumer-4', env, 'consumer');
      consumers.push(replacement);
      await replacement.start();
      // The rest, and at the same moment copies of it in the old shape — one event per record,
      // keyed by workspace, so in another partition, read by another process while the
      // originals are being stored (which copy comes first is a race: they are the same event).
      const rest = events.slice(30_000);
      const legacy = rest.filter((_, i) => i % 3 === 0);
      const interleaved = [];
      const originals = asRecords(rest);
      const oldShape = legacy.map((e) => ({ key: e.subject, value: JSON.stringify(e) }));
      for (let i = 0; i < Math.max(originals.length, oldShape.length); i++) {
        if (i < originals.length) interleaved.push(originals[i]);
        interleaved.push(...oldShape.slice(i * 40, (i + 1) * 40));
      }
      await Promise.all([
        kafka.produce(topic, interleaved),
        kafka.produce(topic, oldShape.slice().reverse()),
      ]);
      await waitFor(
        'all 60,000 stored',
        () => ch.totals(),
        (t) => stored(t, 60_000n),
        180_000,
      );

      // Then copies that come strictly later: re-sent in batch records, and re-sent under
      // another workspace — as batch records and in the old shape — which must change no
      // workspace's usage (the first copy won).
      const copies = events.filter((_, i) => i % 7 === 0);
      const moved = (e: (typeof events)[number]) => ({
        ...e,
        subject: e.subject === 'ws_a' ? 'ws_b' : 'ws_a',
      });
      await kafka.produce(topic, asRecords(copies));
      await kafka.produce(topic, asRecords(copies.map(moved)));
      await kafka.produce(
        topic,
        copies.map((e) => ({ key: moved(e).subject, value: JSON.stringify(moved(e)) })),
      );

      // Every record judged, the re-routed copies too (they are appended as the group reads).
      const alive = consumers.filter((_, i) => i !== 1);
      await waitFor(
        'the group caught up with the topic',
        () => kafka.caughtUp(topic, env.KAFKA_CONSUMER_GROUP),
        (done) => done,
        120_000,
      );
      const rerouted = await Promise.all(
        alive.map((c) => c.metric('gpumeter_consumer_rerouted_events_total')),
      );
      // Old-shape records land in their workspace's partition; most are not their source's.
      expect(rerouted.reduce((a, b) => a + b, 0)).toBeGreaterThan(legacy.length);
      const total = sum(expected);
      expect(await ch.totals()).toEqual({
        rawEvents: 60_000n,
        rawGpuMs: total,
        hourlyEvents: 60_000n,
        hourlyGpuMs: total,
        duplicateKeys: 0n,
      });
      for (const ws of workspaces)
        expect([ws, (await ch.totals(ws)).rawGpuMs]).toEqual([ws, expected.get(ws)]);
    } finally {
      for (const c of consumers) await c.kill('SIGKILL');
      await ch.close();
      await kafka.close();
    }
  });
});
