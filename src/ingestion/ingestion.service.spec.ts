import { IngestionConfig } from './ingestion.config';
import { KafkaProducer } from '../platform/kafka/kafka-producer';
import { MetricsService } from '../platform/metrics/metrics.service';
import { topLevelJsonTexts } from '../platform/json/untrusted-json';
import { IngestionService } from './ingestion.service';
import { sampleUsageEvent } from './usage-event/usage-event.fixtures';

/** The service with a Kafka that records what it was asked to send (unit test: no broker). */
function serviceRecordingSends() {
  const sent: Array<{ key: string; value: string }> = [];
  const kafka = {
    topics: { usageEvents: 'usage.events.v1' },
    send: async (_topic: string, messages: Array<{ key: string; value: string }>) => {
      sent.push(...messages);
    },
    fits: async () => true,
  } as unknown as KafkaProducer;
  const metrics = new MetricsService();
  const service = new IngestionService(new IngestionConfig(), kafka, metrics);
  return { service, sent };
}

describe('IngestionService: what reaches Kafka', () => {
  const now = Date.now();
  const events = [
    sampleUsageEvent(now - 1000, { id: 'a:1', 'data.app_id': 'é😀 app' }),
    sampleUsageEvent(now - 2000, { id: 'b:2', 'data.gpu_count': 0 }), // invalid: refused
    sampleUsageEvent(now - 3000, { id: 'c:3' }),
  ];

  it('produces each accepted event as the very text it was parsed from (pretty-printed stays so)', async () => {
    const body = Buffer.from(JSON.stringify(events, null, 2));
    const { service, sent } = serviceRecordingSends();
    const result = await service.ingest(JSON.parse(body.toString()), now, null, topLevelJsonTexts(body));
    expect(result.accepted).toBe(2);
    expect(result.rejected.map((r) => r.index)).toEqual([1]);
    const texts = topLevelJsonTexts(body)!;
    expect(sent).toEqual([
      { key: 'agent://gpu-host-17', value: `[${texts[0]},${texts[2]}]`, timestamp: String(now) },
    ]);
    expect(JSON.parse(sent[0].value)).toEqual([events[0], events[2]]);
  });

  it('writes the events out again when it has no text per event', async () => {
    const { service, sent } = serviceRecordingSends();
    await service.ingest(events, now, null, ['{}']); // one text for three events: not used
    expect(sent[0].value).toBe(`[${JSON.stringify(events[0])},${JSON.stringify(events[2])}]`);
  });
});
