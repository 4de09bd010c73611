import { chReader, stored } from './support/clickhouse';
import { postEvents } from './support/http';
import { testKafka } from './support/kafka';
import { ServiceProcess } from './support/service-process';
import { stack } from './support/stack';
import { isolatedEnv } from './support/test-env';
import { generateEvents, sum, waitFor } from './support/workload';

/**
 * Every path that can deliver an event twice, and every outage, leaves totals exact:
 * processes are killed for real, ClickHouse is stopped for real.
 */
describe('resilience: crashes and outages never lose or double an event', () => {
  const opened: Array<{ close(): Promise<unknown> }> = [];
  const processes: ServiceProcess[] = [];
  afterAll(async () => {
    for (const p of processes) await p.kill('SIGKILL');
    for (const o of opened) await o.close();
  });
  const toMessages = (events: Array<{ subject: string }>) =>
    events.map((e) => ({ key: e.subject, value: JSON.stringify(e) }));

  it('consumer killed after its insert but before the commit → the re-delivered batch counts once', async () => {
    // Small slices, so the first store round (the one that crashes) holds only part of the events.
    const env = await isolatedEnv('crash', { CONSUMER_MAX_BATCH_EVENTS: '2000' });
    const ch = chReader(env);
    const kafka = testKafka(env);
    opened.push(ch, kafka);
    const { events, expectedGpuMs } = generateEvents({
      count: 20_000,
      workspaces: ['ws_a', 'ws_b', 'ws_c'],
      seed: 11,
    });
    await kafka.produce(kafka.topic('usage.events.v1'), toMessages(events));

    const doomed = new ServiceProcess('crash-consumer-1', env, 'consumer');
    processes.push(doomed);
    // It may kill itself before it even listens: don't wait for /healthz.
    await doomed.start({ FAULT_INJECTION: 'crash-after-insert' }, false);
    await doomed.exited; // SIGKILLed itself right after its first insert
    const afterCrash = await ch.totals();
    expect(afterCrash.rawEvents).toBeGreaterThan(0n);
    expect(afterCrash.rawEvents).toBeLessThan(20_000n);

    const survivor = new ServiceProcess('crash-consumer-2', env, 'consumer');
    processes.push(survivor);
    await survivor.start();
    await waitFor(
      'all 20,000 stored',
      () => ch.totals(),
      (t) => stored(t, 20_000n),
    );
    // The batch stored before the crash was delivered again and recognised as stored.
    expect(await survivor.metric('gpumeter_consumer_duplicates_skipped_total')).toBeGreaterThanOrEqual(
      Number(afterCrash.rawEvents),
    );
    const total = sum(expectedGpuMs);
    expect(await ch.totals()).toEqual({
      rawEvents: 20_000n,
      rawGpuMs: total,
      hourlyEvents: 20_000n,
      hourlyGpuMs: total,
      duplicateKeys: 0n,
    });
    await survivor.kill();
  });

  it('consumer SIGKILLed mid-stream while the API keeps accepting, then restarted → exact totals', async () => {
    const env = await isolatedEnv('sigkill');
    const ch = chReader(env);
    opened.push(ch);
    const apiProc = await new ServiceProcess('sigkill-api', env, 'api').start();
    let consumer = await new ServiceProcess('sigkill-consumer-1', env, 'consumer').start();
    processes.push(apiProc, consumer);
    const { events, expectedGpuMs } = generateEvents({
      count: 30_000,
      workspaces: ['ws_a', 'ws_b'],
      seed: 12,
    });
    const posting = postEvents(apiProc.url, events, 500);
    await waitFor(
      'some events stored',
      () => ch.totals(),
      (t) => t.rawEvents > 2_000n,
    );
    await consumer.kill('SIGKILL');
    const atKill = await ch.totals();
    consumer = await new ServiceProcess('sigkill-consumer-2', env, 'consumer').start();
    processes.push(consumer);
    expect(await posting).toBe(30_000);
    await waitFor(
      'all 30,000 stored',
      () => ch.totals(),
      (t) => stored(t, 30_000n),
    );
    const total = sum(expectedGpuMs);
    expect(atKill.rawEvents).toBeLessThan(30_000n);
    expect(await ch.totals()).toEqual({
      rawEvents: 30_000n,
      rawGpuMs: total,
      hourlyEvents: 30_000n,
      hourlyGpuMs: total,
      duplicateKeys: 0n,
    });
    await apiProc.kill();
    await consumer.kill();
  });

  it('ClickHouse stopped for 20 s during ingestion → nothing lost, nothing doubled, consumer recovers by itself', async () => {
    const env = await isolatedEnv('chdown');
    const ch = chReader(env);
    opened.push(ch);
    const apiProc = await new ServiceProcess('chdown-api', env, 'api').start();
    const consumer = await new ServiceProcess('chdown-consumer', env, 'consumer').start();
    processes.push(apiProc, consumer);
    const { events, expectedGpuMs } = generateEvents({
      count: 24_000,
      workspaces: ['ws_a', 'ws_b', 'ws_c'],
      seed: 13,
    });
    // Post steadily over ~30 s so ingestion runs before, during and after the outage.
    const posting = (async () => {
      let accepted = 0;
      for (let i = 0; i < events.length; i += 800) {
        accepted += await postEvents(apiProc.url, events.slice(i, i + 800), 800);
        await new Promise((r) => setTimeout(r, 1000));
      }
      return accepted;
    })();
    await waitFor(
      'some events stored',
      () => ch.totals(),
      (t) => t.rawEvents > 0n,
    );
    await stack('down', 'clickhouse');
    const downAt = Date.now();
    try {
      await new Promise((r) => setTimeout(r, 20_000));
      // The consumer noticed and is retrying, not dropping or committing.
      expect(await consumer.metric('gpumeter_consumer_store_failures_total')).toBeGreaterThan(0);
      expect(consumer.running).toBe(true);
    } finally {
      await stack('up', 'clickhouse');
    }
    expect(Date.now() - downAt).toBeGreaterThanOrEqual(20_000);
    expect(await posting).toBe(24_000);
    await waitFor(
      'all 24,000 stored',
      () => ch.totals(),
      (t) => stored(t, 24_000n),
      180_000,
    );
    const total = sum(expectedGpuMs);
    expect(await ch.totals()).toEqual({
      rawEvents: 24_000n,
      rawGpuMs: total,
      hourlyEvents: 24_000n,
      hourlyGpuMs: total,
      duplicateKeys: 0n,
    });
    expect(consumer.running).toBe(true);
    await apiProc.kill();
    await consumer.kill();
  });

  it('a malformed message written straight to the topic goes to the DLQ with its reason; the consumer keeps going', async () => {
    const env = await isolatedEnv('dlq');
    const ch = chReader(env);
    const kafka = testKafka(env);
    opened.push(ch, kafka);
    const consumer = await new ServiceProcess('dlq-consumer', env, 'consumer').start();
    processes.push(consumer);
    const { events, expectedGpuMs } = generateEvents({ count: 100, workspaces: ['ws_a'], seed: 14 });
    const invalid = { ...events[0], id: 'too-many-gpus', data: { ...events[0].data, gpu_count: 65 } };
    await kafka.produce(kafka.topic('usage.events.v1'), [
      ...toMessages(events.slice(0, 50)),
      { key: 'ws_a', value: '{"this is": not json' },
      { key: 'ws_a', value: JSON.stringify(invalid) },
      ...toMessages(events.slice(50)),
    ]);
    await waitFor(
      'valid events stored',
      () => ch.totals(),
      (t) => t.rawEvents >= 100n,
    );
    expect(await ch.totals()).toEqual(
      expect.objectContaining({ rawEvents: 100n, rawGpuMs: sum(expectedGpuMs), duplicateKeys: 0n }),
    );
    const dlq = await kafka.readAll(kafka.topic('usage.events.dlq.v1'), 2);
    expect(dlq).toHaveLength(2);
    const byReason = Object.fromEntries(dlq.map((m) => [m.headers['error-reason'], m]));
    expect(byReason['invalid-json'].value).toBe('{"this is": not json');
    expect(byReason['invalid-event'].value).toBe(JSON.stringify(invalid));
    expect(byReason['invalid-event'].headers['error-detail']).toContain('data.gpu_count');
    for (const m of dlq) {
      expect(m.key).toBe('ws_a');
      expect(m.headers['original-topic']).toBe(kafka.topic('usage.events.v1'));
      expect(Number(m.headers['original-partition'])).toBeGreaterThanOrEqual(0);
      expect(m.headers['original-offset']).toMatch(/^\d+$/);
    }
    expect(await consumer.metric('gpumeter_dlq_messages_total')).toBe(2);
    // SIGTERM: the consumer leaves its group and exits promptly (nothing uncommitted is lost:
    // offsets only ever follow stored data).
    const stopping = Date.now();
    await consumer.kill('SIGTERM');
    expect(Date.now() - stopping).toBeLessThan(15_000);
  });

  it('Kafka stopped for 45 s → the idle consumer comes back by itself and stores what arrives after', async () => {
    // Regression: kafkajs gave up on a consumer after its retries ran out during a long
    // broker outage; the consumer now always restarts (restartOnFailure + supervision).
    const env = await isolatedEnv('kafkadown');
    const ch = chReader(env);
    const kafka = testKafka(env);
    opened.push(ch, kafka);
    const consumer = await new ServiceProcess('kafkadown-consumer', env, 'consumer').start();
    processes.push(consumer);
    await stack('down', 'kafka');
    try {
      await new Promise((r) => setTimeout(r, 45_000));
    } finally {
      await stack('up', 'kafka');
    }
    const { events, expectedGpuMs } = generateEvents({ count: 1000, workspaces: ['ws_a'], seed: 15 });
    await kafka.produce(kafka.topic('usage.events.v1'), toMessages(events));
    await waitFor(
      'events stored after the outage',
      () => ch.totals(),
      (t) => stored(t, 1000n),
      120_000,
    );
    expect(await ch.totals()).toEqual(
      expect.objectContaining({ rawEvents: 1000n, rawGpuMs: sum(expectedGpuMs), duplicateKeys: 0n }),
    );
    expect(consumer.running).toBe(true);
    await consumer.kill();
  });
});
