import { ConfigurationError, loadConfig } from './app-config';

function problems(env: Record<string, string | undefined>): string {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigurationError) return e.message;
    throw e;
  }
  return '';
}

describe('configuration', () => {
  it('has the contract defaults', () => {
    const c = loadConfig({});
    expect(c.PORT).toBe(3000);
    expect(c.KAFKA_BROKERS).toEqual(['localhost:9092']);
    expect(c.CLICKHOUSE_URL).toBe('http://localhost:8123');
    expect(c.CLICKHOUSE_DATABASE).toBe('gpumeter');
    expect(c.INGEST_TOKENS).toEqual([]);
  });
  it('parses lists and numbers', () => {
    const c = loadConfig({
      PORT: '8080',
      KAFKA_BROKERS: 'a:9092, b:9093',
      INGEST_TOKENS: 'token-one-0123456789,token-two-0123456789',
    });
    expect(c.PORT).toBe(8080);
    expect(c.KAFKA_BROKERS).toEqual(['a:9092', 'b:9093']);
    expect(c.INGEST_TOKENS).toHaveLength(2);
  });
  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ KAFKA_BROKERS: 'no-port' }, 'KAFKA_BROKERS'],
    [{ CLICKHOUSE_URL: 'not a url' }, 'CLICKHOUSE_URL'],
    [{ CLICKHOUSE_DATABASE: 'drop table;' }, 'CLICKHOUSE_DATABASE'],
    [{ GPUMETER_ENV: 'production' }, 'ADMIN_API_KEY'],
    [{ ADMIN_API_KEY: 'short' }, 'ADMIN_API_KEY'],
    [{ INGEST_TOKENS: 'tiny' }, 'INGEST_TOKENS'],
    [{ STRIPE_API_URL: 'localhost:8420' }, 'STRIPE_API_URL'],
    [{ GPUMETER_CLOCK_OFFSET: '5 days' }, 'GPUMETER_CLOCK_OFFSET'],
    [
      { GPUMETER_ENV: 'production', ADMIN_API_KEY: 'x'.repeat(24), GPUMETER_CLOCK_OFFSET: '+5d' },
      'GPUMETER_CLOCK_OFFSET',
    ],
    [{ INVOICE_GRACE_HOURS: '-1' }, 'INVOICE_GRACE_HOURS'],
    [{ STRIPE_MAX_CONCURRENCY: '0' }, 'STRIPE_MAX_CONCURRENCY'],
    [{ FAULT_INJECTION: 'crash-after-stripe-items=lots' }, 'FAULT_INJECTION'],
    [{ EVENT_MAX_AGE_DAYS: '0' }, 'EVENT_MAX_AGE_DAYS'],
    [{ RAW_EVENT_RETENTION_DAYS: 'ninety' }, 'RAW_EVENT_RETENTION_DAYS'],
    [{ RAW_EVENT_RETENTION_DAYS: '36' }, 'RAW_EVENT_RETENTION_DAYS'],
    [{ RAW_EVENT_RETENTION_DAYS: '60', EVENT_MAX_AGE_DAYS: '59' }, 'RAW_EVENT_RETENTION_DAYS'],
    [
      { FAULT_INJECTION: 'crash-after-insert', GPUMETER_ENV: 'production', ADMIN_API_KEY: 'x'.repeat(30) },
      'FAULT_INJECTION',
    ],
    [{ OPENAPI_RESPONSE_CHECK: 'yes' }, 'OPENAPI_RESPONSE_CHECK'],
    [{ OPENAPI_RESPONSE_CHECK: 'true', GPUMETER_ENV: 'production' }, 'OPENAPI_RESPONSE_CHECK'],
  ])('refuses %p naming %s', (env, variable) => {
    expect(problems(env)).toContain(`${variable}:`);
  });
  it('keeps raw events for ever unless RAW_EVENT_RETENTION_DAYS is set past the accepted age', () => {
    expect(loadConfig({}).RAW_EVENT_RETENTION_DAYS).toBeUndefined();
    expect(loadConfig({ RAW_EVENT_RETENTION_DAYS: '37' }).RAW_EVENT_RETENTION_DAYS).toBe(37);
  });
  it('never echoes a secret in the error', () => {
    const message = problems({ ADMIN_API_KEY: 'sekrit' });
    expect(message).toContain('ADMIN_API_KEY');
    expect(message).not.toContain('sekrit');
  });
  const live = {
    GPUMETER_ENV: 'production',
    ADMIN_API_KEY: 'k'.repeat(32),
    WEBHOOK_SECRETS_KEY: Buffer.alloc(32, 7).toString('base64'),
    STRIPE_SECRET_KEY: 'sk_live_abc123',
    STRIPE_WEBHOOK_SECRET: 'whsec_abc',
    CLICKHOUSE_PASSWORD: 'secret',
    KAFKA_ALLOW_PLAINTEXT: 'true',
  };
  it('production refuses a plaintext, unauthenticated broker unless KAFKA_ALLOW_PLAINTEXT=true', () => {
    const production = { ...live, KAFKA_ALLOW_PLAINTEXT: undefined };
    expect(() => loadConfig(production)).toThrow(/KAFKA_SSL:.*KAFKA_ALLOW_PLAINTEXT/);
    expect(() => loadConfig({ ...production, KAFKA_SSL: 'true' })).toThrow(/KAFKA_SSL:/);
    const sasl = {
      KAFKA_SSL: 'true',
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'gpumeter',
      KAFKA_SASL_PASSWORD: 'a-password',
    };
    expect(loadConfig({ ...production, ...sasl }).KAFKA_SASL_MECHANISM).toBe('scram-sha-512');
    expect(loadConfig({ ...production, KAFKA_ALLOW_PLAINTEXT: 'true' }).GPUMETER_ENV).toBe('production');
  });
  it('production requires the operator key and the webhook secrets key', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/ADMIN_API_KEY/);
    expect(() => loadConfig({ ...live, WEBHOOK_SECRETS_KEY: undefined })).toThrow(/WEBHOOK_SECRETS_KEY/);
    expect(loadConfig(live).GPUMETER_ENV).toBe('production');
    expect(problems({ WEBHOOK_SECRETS_KEY: 'short' })).toContain('WEBHOOK_SECRETS_KEY:');
    expect(problems({ WEBHOOK_RETRY_SCHEDULE_SECONDS: '0,5,x' })).toContain(
      'WEBHOOK_RETRY_SCHEDULE_SECONDS:',
    );
  });
  it.each([
    [{ STRIPE_SECRET_KEY: 'sk_test_abc' }, 'STRIPE_SECRET_KEY', 'live-mode'],
    [{ STRIPE_SECRET_KEY: 'rk_test_abc' }, 'STRIPE_SECRET_KEY', 'live-mode'],
    [{ STRIPE_SECRET_KEY: undefined }, 'STRIPE_SECRET_KEY', 'live-mode'], // the default is a test key
    [{ STRIPE_API_URL: 'http://stripe.internal' }, 'STRIPE_API_URL', 'https'],
    [{ STRIPE_WEBHOOK_SECRET: undefined }, 'STRIPE_WEBHOOK_SECRET', 'required'],
    [{ STRIPE_WEBHOOK_SECRET: '' }, 'STRIPE_WEBHOOK_SECRET', 'required'],
    [{ CLICKHOUSE_PASSWORD: '' }, 'CLICKHOUSE_PASSWORD', 'empty'],
    [{ ADMIN_API_KEY: 'k'.repeat(31) }, 'ADMIN_API_KEY', '32'],
  ])('production refuses %p naming %s', (change, variable, why) => {
    const message = problems({ ...live, ...change });
    expect(message).toContain(`${variable}:`);
    expect(message).toContain(why);
    // Development keeps accepting it.
    expect(problems({ ...live, ...change, GPUMETER_ENV: 'development' })).toBe('');
  });
  it('production accepts an https Stripe URL and names no secret value', () => {
    expect(problems({ ...live, STRIPE_API_URL: 'https://api.stripe.com' })).toBe('');
    expect(problems({ ...live, STRIPE_SECRET_KEY: 'sk_test_sekrit99' })).not.toContain('sekrit99');
  });
});
