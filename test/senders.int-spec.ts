import { HttpEventSender, KafkaEventSender } from '../src/agent/event-sender';
import { sampleUsageEvent } from '../src/ingestion/usage-event/usage-event.fixtures';
import { chReader, stored } from './support/clickhouse';
import { createWorkspace } from './support/http';
import { testKafka } from './support/kafka';
import { ServiceProcess } from './support/service-process';
import { AGENT_TOKEN, isolatedEnv } from './support/test-env';

/**
 * Issue 10, finding 1 (batches bounded by bytes): valid events at the maximum field lengths,
 * in 4-byte characters, are ≈ 4 KB each; 1,000 of them are ≈ 4 MB, four times the API's body
 * limit and twice the topic's message limit. Through the agent's HTTP sender and its Kafka
 * sender they must all be stored, and large invalid records must all reach the DLQ.
 */
jest.setTimeout(300_000);

const pad = (prefix: string, chars: number) => prefix + '😀'.repeat(chars - [...prefix].length);

function maxEvents(ws: string, tag: string, n: number) {
  const now = Date.now() - 120_000;
  return Array.from({ length: n }, (_, i) => {
    const e = sampleUsageEvent(now - i * 10, { subject: ws });
    Object.assign(e, { id: pad(`${tag}${i}-`, 128), source: pad(`agent://${tag}-`, 256) });
    Object.assign(e.data, {
      container_id: pad(`c${i}-`, 128),
      app_id: pad('a-', 128),
      function_id: pad('f-', 128),
      region: pad('r-', 128),
      provider: pad('p-', 128),
    });
    return JSON.stringify(e);
  });
}

describe('agent senders bounded by bytes (issue 10)', () => {
  it('1,000 maximum-size events through the HTTP sender and 1,000 through the Kafka sender are all stored, exactly', async () => {
    const env = await isolatedEnv('senders');
    const svc = await new ServiceProcess('senders', env, 'all').start();
    const ch = chReader(env);
    try {
      const ws = 'ws_big';
      await createWorkspace(svc.url, ws);
      const viaHttp = maxEvents(ws, 'h', 1000);
      const viaKafka = maxEvents(ws, 'k', 1000);
      expect(Buffer.byteLength(`[${viaHttp.join(',')}]`)).toBeGreaterThan(4 * 1024 * 1024);
      expect(await new HttpEventSender(svc.url, AGENT_TOKEN).send(viaHttp)).toEqual([]);
      const kafka = new KafkaEventSender(
        { brokers: env.KAFKA_BROKERS.split(',') },
        `${env.KAFKA_TOPIC_PREFIX}usage.events.v1`,
        'test-agent',
      );
      expect(await kafka.send(viaKafka)).toEqual([]);
      await kafka.close();
      const deadline = Date.now() + 120_000;
      while (!stored(await ch.totals(ws), 2000n) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 250));
      expect(await ch.totals(ws)).toEqual({
        rawEvents: 2000n,
        rawGpuMs: 2000n * 8n * 5123n,
        hourlyEvents: 2000n,
        hourlyGpuMs: 2000n * 8n * 5123n,
        duplicateKeys: 0n,
      });
    } finally {
      await svc.kill();
      await ch.close();
    }
  });

  it('a batch of large invalid records all reach the DLQ, with their headers', async () => {
    const env = await isolatedEnv('bigdlq');
    const svc = await new ServiceProcess('bigdlq', env, 'all').start();
    const kafka = testKafka(env);
    try {
      const topic = kafka.topic('usage.events.v1');
      // 12 records of 900 KB each on one partition: one fetch, one DLQ batch far above 1 MiB.
      for (let i = 0; i < 12; i++)
        await kafka.produce(topic, [{ key: 'ws_same', value: `${i}:${'x'.repeat(900 * 1024)}` }]);
      const dlq = kafka.topic('usage.events.dlq.v1');
      const deadline = Date.now() + 60_000;
      while ((await kafka.messageCount(dlq)) < 12 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 250));
      const letters = await kafka.readAll(dlq, 12);
      expect(letters).toHaveLength(12);
      for (const l of letters) {
        expect(l.headers['error-reason']).toBe('invalid-json');
        expect(l.value.length).toBeGreaterThan(900 * 1024);
      }
    } finally {
      await kafka.close();
      await svc.kill();
    }
  });
});
