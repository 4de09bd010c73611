import { ServiceProcess } from './support/service-process';
import { isolatedEnv, productionOverrides } from './support/test-env';

/**
 * Production configuration that is valid but unsafe stops start-up with exit code 78
 * (EX_CONFIG) and names the variable (issue 10, finding 8), on the real compiled service.
 */
describe('production configuration', () => {
  let env: Record<string, string>;

  beforeAll(async () => {
    env = await isolatedEnv('prodconfig');
  });

  it.each([
    [{ STRIPE_SECRET_KEY: 'sk_test_gpumeterlocal' }, 'STRIPE_SECRET_KEY'],
    [{ STRIPE_API_URL: 'http://127.0.0.1:12111' }, 'STRIPE_API_URL'],
    [{ STRIPE_WEBHOOK_SECRET: '' }, 'STRIPE_WEBHOOK_SECRET'],
    [{ CLICKHOUSE_PASSWORD: '' }, 'CLICKHOUSE_PASSWORD'],
    [{ ADMIN_API_KEY: 'an-operator-key-of-31-character' }, 'ADMIN_API_KEY'],
    [{ INGEST_TOKENS: 'an-agent-token-without-sources' }, 'INGEST_TOKENS'],
  ])('refuses %p at start-up (exit 78, naming %s)', async (unsafe, variable) => {
    const service = new ServiceProcess(`prodconfig-${variable}`, env, 'all');
    await service.start({ ...productionOverrides(), ...unsafe }, false);
    expect(await service.exited).toBe(78);
    expect(service.output).toContain(`${variable}:`);
    for (const secret of Object.values(unsafe))
      if (secret.length > 0) expect(service.output).not.toContain(secret);
  });

  it('starts with all of them safe, against the stack ClickHouse user with a password', async () => {
    const service = await new ServiceProcess('prodconfig-ok', env, 'api').start(productionOverrides());
    try {
      const r = await fetch(`${service.url}/healthz`);
      expect(r.status).toBe(200);
    } finally {
      await service.kill();
    }
  });
});
