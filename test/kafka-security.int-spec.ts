import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KafkaEventSender } from '../src/agent/event-sender';
import { loadConfig } from '../src/app-config';
import { kafkaConnection } from '../src/platform/kafka/kafka-connection';
import { runCli } from './support/billing';
import { chReader, stored } from './support/clickhouse';
import { createWorkspace, postEvents } from './support/http';
import { ServiceProcess } from './support/service-process';
import { isolatedEnv, ROOT } from './support/test-env';
import { generateEvents, sum, waitFor } from './support/workload';

/**
 * Kafka over TLS with SASL (issue 10, finding 3), through the local stack's SASL_SSL listener
 * (its own CA and broker certificate, a SCRAM-SHA-512 user; stack/stack.sh): the service, the
 * agent's Kafka sender and a CLI command all run through it, and a wrong password or CA stops
 * start-up in seconds naming the variable, instead of a hang.
 */
const TLS = join(ROOT, '.local', 'kafka', 'tls');
const SASL_SSL = {
  KAFKA_BROKERS: `127.0.0.1:${process.env.GPUMETER_KAFKA_SASL_SSL_PORT ?? '9094'}`,
  KAFKA_SSL: 'true',
  KAFKA_SSL_CA_FILE: join(TLS, 'ca.pem'),
  KAFKA_SASL_MECHANISM: 'scram-sha-512',
  KAFKA_SASL_USERNAME: 'gpumeter',
  KAFKA_SASL_PASSWORD: 'gpumeter-local-stack',
};

describe('Kafka over SASL_SSL (issue 10)', () => {
  let env: Record<string, string>;
  let secure: Record<string, string>;

  beforeAll(async () => {
    env = await isolatedEnv('kafkasec');
    secure = { ...env, ...SASL_SSL };
  });

  it('the pipeline runs through the TLS + SCRAM listener: HTTP ingest and the agent’s Kafka sender, exact totals', async () => {
    const svc = await new ServiceProcess('kafkasec', secure, 'all').start();
    const ch = chReader(env);
    try {
      await createWorkspace(svc.url, 'ws_tls');
      const viaHttp = generateEvents({
        count: 2_000,
        workspaces: ['ws_tls'],
        seed: 91,
        source: 'agent://tls-http',
      });
      expect(await postEvents(svc.url, viaHttp.events)).toBe(2_000);
      // The agent's sender with PLAIN and a client certificate, on the same listener.
      const viaAgent = generateEvents({
        count: 500,
        workspaces: ['ws_tls'],
        seed: 92,
        source: 'agent://tls-agent',
      });
      const sender = new KafkaEventSender(
        kafkaConnection(
          loadConfig({
            ...secure,
            KAFKA_SASL_MECHANISM: 'plain',
            KAFKA_SSL_CERT_FILE: join(TLS, 'client.pem'),
            KAFKA_SSL_KEY_FILE: join(TLS, 'client.key'),
          }),
        ),
        `${env.KAFKA_TOPIC_PREFIX}usage.events.v1`,
        'test-agent-tls',
      );
      try {
        const payloads = viaAgent.events.map((e) => JSON.stringify(e));
        expect(await sender.send(payloads)).toEqual([]);
      } finally {
        await sender.close();
      }
      const expected = sum(viaHttp.expectedGpuMs) + sum(viaAgent.expectedGpuMs);
      const t = await waitFor(
        'all 2,500 events stored',
        () => ch.totals('ws_tls'),
        (x) => stored(x, 2_500n),
        60_000,
      );
      expect(t.rawGpuMs).toBe(expected);
      expect(t.hourlyGpuMs).toBe(expected);
      expect(t.duplicateKeys).toBe(0n);
    } finally {
      await ch.close();
      await svc.kill();
    }
    // A CLI command (replay) through the same listener.
    const replay = await runCli(secure, ['replay', '--database', `${env.CLICKHOUSE_DATABASE}_r`]);
    expect(replay.code).toBe(0);
    expect(JSON.parse(replay.stdout.trim().split('\n').pop()!)).toMatchObject({ usage_events: '2500' });
  }, 180_000);

  it.each([
    [{ KAFKA_SASL_PASSWORD: 'not-the-password' }, 'KAFKA_SASL_PASSWORD'],
    [{ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'nobody' }, 'KAFKA_SASL_USERNAME'],
    [{ KAFKA_SSL_CA_FILE: '' }, 'KAFKA_SSL_CA_FILE'], // the system CAs do not know the stack's CA
  ])(
    'a refused %p stops the service and the agent in seconds, naming %s',
    async (wrong, variable) => {
      const t0 = Date.now();
      const svc = new ServiceProcess(`kafkasec-wrong-${variable}`, { ...secure, ...wrong }, 'all');
      await svc.start({}, false);
      expect(await svc.exited).toBe(78);
      expect(Date.now() - t0).toBeLessThan(20_000);
      expect(svc.output).toContain(variable);
      expect(svc.output).not.toContain('not-the-password');
      const spool = mkdtempSync(join(tmpdir(), 'gpumeter-agent-'));
      const agent = await runCli({ ...secure, ...wrong }, [
        'agent',
        '--simulate',
        '--duration',
        '5s',
        '--spool',
        spool,
      ]);
      expect(agent.code).toBe(78);
      expect(agent.stderr).toContain(variable);
    },
    60_000,
  );
});
