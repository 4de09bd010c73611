import { randomBytes } from 'node:crypto';
import Stripe from 'stripe';
import { api, createWorkspace, postEvents } from './support/http';
import { LOCALSTRIPE_BILLING_ENV, monthBack, runCli, runInvoiceMonth, usageEvents } from './support/billing';
import { chReader } from './support/clickhouse';
import { testKafka } from './support/kafka';
import { ServiceProcess } from './support/service-process';
import { ADMIN_KEY, AGENT_TOKEN, isolatedEnv, productionOverrides } from './support/test-env';
import { WebhookReceiver } from './support/webhook-receiver';
import { until } from './support/wait';

/**
 * Issue 9: outgoing webhooks against the real stack — a real local receiver that verifies every
 * signature with the `standardwebhooks` library, the service as a real process (killed and
 * restarted), Kafka and ClickHouse underneath.
 */
jest.setTimeout(300_000);

const WEBHOOK_SECRET = 'whsec_webhooktestsecret';

describe('webhooks (issue 9)', () => {
  let env: Record<string, string>;
  let svc: ServiceProcess;
  const receiver = new WebhookReceiver();
  const tag = randomBytes(3).toString('hex');
  const ws = `wh${tag}-a`;
  const other = `wh${tag}-b`;
  let wsKey: string;
  let otherKey: string;

  const createEndpoint = async (token: string, path: string, events: string[], extra: object = {}) => {
    const r = await api(svc.url, 'POST', '/v1/webhook-endpoints', token, {
      url: receiver.url(path),
      events,
      ...extra,
    });
    expect(r.status).toBe(201);
    receiver.secrets.set(path, [r.body.secret]);
    return r.body as { id: string; secret: string };
  };
  const deliveries = async (token: string, id: string) =>
    (await api(svc.url, 'GET', `/v1/webhook-endpoints/${id}/deliveries`, token)).body.deliveries as Array<{
      message_id: string;
      type: string;
      status: string;
      attempts: Array<{ attempt: number; status_code: number | null; outcome: string; duration_ms: number }>;
    }>;

  /**
   * The observable fact behind "nothing more comes" (never a fixed sleep): the dispatcher has
   * read every billing event written so far — its consumer group committed the topic's end, so
   * every message it will make of them exists — and every message of these endpoints has
   * settled (succeeded or gave up: none waits for an attempt). Only then is a count final.
   */
  const settled = async (endpoints: Array<[token: string, endpointId: string]>) => {
    const kafka = testKafka(env);
    let open: string[] = [];
    try {
      await until(`deliveries settled (${open.join(', ')})`, async () => {
        const caught = await kafka.caughtUp(
          kafka.topic('billing.events.v1'),
          `${env.KAFKA_CONSUMER_GROUP}-webhooks`,
        );
        const logs = await Promise.all(endpoints.map(([token, id]) => deliveries(token, id)));
        open = logs
          .flat()
          .filter((d) => d.status === 'pending' || d.status === 'failed')
          .map((d) => `${d.message_id} ${d.status}`);
        if (!caught) open.push('the dispatcher has not read every billing event');
        return open.length === 0;
      });
    } finally {
      await kafka.close();
    }
  };

  beforeAll(async () => {
    await receiver.start();
    env = await isolatedEnv('webhooks', {
      ...LOCALSTRIPE_BILLING_ENV,
      INVOICE_GRACE_HOURS: '0',
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      WEBHOOK_RETRY_SCHEDULE_SECONDS: '0,1,1,2,2',
    });
    svc = await new ServiceProcess('webhooks', env, 'all').start();
    wsKey = await createWorkspace(svc.url, ws);
    otherKey = await createWorkspace(svc.url, other);
  });

  afterAll(async () => {
    await svc?.kill();
    await receiver.stop();
  });

  it('endpoints: created with a whsec_ secret, scoped to their workspace (404 to others), 401 without a key, 403 for an agent, 400 naming the field', async () => {
    const r = await api(svc.url, 'POST', '/v1/webhook-endpoints', wsKey, {
      url: receiver.url('/scoped'),
      events: ['invoice.finalized'],
      description: 'mine',
    });
    expect(r.status).toBe(201);
    expect(r.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(r.body.secret.slice(6), 'base64').length).toBeGreaterThanOrEqual(24);
    expect(r.body).toMatchObject({
      workspace_id: ws,
      url: receiver.url('/scoped'),
      events: ['invoice.finalized'],
      status: 'enabled',
    });
    const id = r.body.id as string;
    expect((await api(svc.url, 'GET', `/v1/webhook-endpoints/${id}`, wsKey)).body).not.toHaveProperty(
      'secret',
    );
    expect((await api(svc.url, 'GET', `/v1/webhook-endpoints/${id}`, otherKey)).status).toBe(404);
    expect((await api(svc.url, 'DELETE', `/v1/webhook-endpoints/${id}`, otherKey)).status).toBe(404);
    expect((await api(svc.url, 'GET', `/v1/webhook-endpoints/${id}/deliveries`, otherKey)).status).toBe(404);
    expect((await api(svc.url, 'GET', '/v1/webhook-endpoints', otherKey)).body.endpoints).toEqual([]);
    expect((await api(svc.url, 'GET', `/v1/webhook-endpoints/${id}`, ADMIN_KEY)).status).toBe(200);
    expect((await api(svc.url, 'GET', '/v1/webhook-endpoints', null)).status).toBe(401);
    expect((await api(svc.url, 'GET', '/v1/webhook-endpoints', AGENT_TOKEN)).status).toBe(403);
    for (const [body, field] of [
      [{ url: 'ftp://x.example/y', events: ['invoice.paid'] }, 'url'],
      [{ url: 'http://10.1.2.3/hook', events: ['invoice.paid'] }, 'url'],
      [{ url: receiver.url('/x'), events: ['invoice.nope'] }, 'events'],
      [{ url: receiver.url('/x'), events: [] }, 'events'],
      [{ events: ['invoice.paid'] }, 'url'],
    ] as const) {
      const bad = await api(svc.url, 'POST', '/v1/webhook-endpoints', wsKey, body);
      expect({ body, status: bad.status, field: bad.body.error.details[0].field }).toEqual({
        body,
        status: 400,
        field,
      });
    }
    // A workspace key cannot create an endpoint for another workspace.
    expect(
      (
        await api(svc.url, 'POST', '/v1/webhook-endpoints', wsKey, {
          url: receiver.url('/x'),
          events: ['invoice.paid'],
          workspace_id: other,
        })
      ).status,
    ).toBe(404);
    expect((await api(svc.url, 'DELETE', `/v1/webhook-endpoints/${id}`, wsKey)).status).toBe(204);
    expect((await api(svc.url, 'GET', `/v1/webhook-endpoints/${id}`, wsKey)).status).toBe(404);
  });

  it('a receiver that answers 500 then 204: retried with the same webhook-id, signed, both attempts in the log', async () => {
    const ep = await createEndpoint(wsKey, '/flaky', ['invoice.paid']);
    receiver.answers.set('/flaky', [500]);
    const sent = await api(svc.url, 'POST', `/v1/webhook-endpoints/${ep.id}/test`, wsKey);
    expect(sent.status).toBe(202);
    await receiver.waitFor('two attempts', () => receiver.at('/flaky').length >= 2);
    const [first, second] = receiver.at('/flaky');
    expect(first.status).toBe(500);
    expect(second.status).toBe(204);
    expect(second.id).toBe(first.id);
    expect(first.id).toBe(sent.body.message_id);
    expect(second.json).toMatchObject({
      type: 'webhook.test',
      data: { endpoint_id: ep.id, workspace_id: ws },
    });
    expect(Object.keys(second.json).sort()).toEqual(['created_at', 'data', 'id', 'type']);
    expect(receiver.verificationFailures).toEqual([]);
    let log: Awaited<ReturnType<typeof deliveries>> = [];
    await until('the delivery logged as succeeded', async () => {
      log = await deliveries(wsKey, ep.id);
      return log[0]?.status === 'succeeded';
    });
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ message_id: first.id, type: 'webhook.test', status: 'succeeded' });
    expect(log[0].attempts.map((a) => [a.attempt, a.status_code, a.outcome])).toEqual([
      [1, 500, 'failed'],
      [2, 204, 'succeeded'],
    ]);
  });

  it('invoices: invoice.created, invoice.finalized, invoice.payment_failed and invoice.paid delivered with the documented body, once each', async () => {
    const ep = await createEndpoint(wsKey, '/invoices', [
      'invoice.created',
      'invoice.finalized',
      'invoice.paid',
      'invoice.payment_failed',
    ]);
    const operator = await createEndpoint(ADMIN_KEY, '/operator', ['invoice.finalized', 'endpoint.disabled']);
    const month = monthBack(1);
    const { events } = usageEvents({
      workspaces: [ws],
      perWorkspace: 20,
      fromMs: month.start,
      toMs: month.end,
      seed: 91,
      idPrefix: `wh${tag}`,
    });
    await postEvents(svc.url, events);
    const ch = chReader(env);
    await until('usage stored', async () => (await ch.totals(ws)).hourlyEvents >= BigInt(events.length));
    await ch.close();
    expect((await runInvoiceMonth(svc.url, month.period)).status).toBe('completed');
    const invoice = (await api(svc.url, 'GET', `/v1/invoices/inv_${month.period}_${ws}`, wsKey)).body;
    await receiver.waitFor('created and finalized', () => receiver.at('/invoices').length >= 2);
    // Stripe says a payment failed, then that it was paid (signed webhooks, as Stripe sends them).
    const stripeEvent = async (type: string, id: string) => {
      const payload = JSON.stringify({
        id,
        object: 'event',
        type,
        created: Math.floor(Date.now() / 1000),
        data: {
          object: {
            id: invoice.stripe.invoice_id,
            object: 'invoice',
            metadata: { gpumeter_invoice_id: invoice.id, gpumeter_workspace_id: ws },
            last_finalization_error: { message: 'card declined' },
          },
        },
      });
      const res = await fetch(`${svc.url}/v1/stripe/webhooks`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'stripe-signature': new Stripe('sk_test_x').webhooks.generateTestHeaderString({
            payload,
            secret: WEBHOOK_SECRET,
          }),
        },
        body: payload,
      });
      expect(res.status).toBe(200);
    };
    await stripeEvent('invoice.payment_failed', `evt_f${tag}`);
    await receiver.waitFor('payment failed', () => receiver.at('/invoices').length >= 3);
    await stripeEvent('invoice.paid', `evt_${tag}`);
    await receiver.waitFor('paid', () => receiver.at('/invoices').length >= 4);
    // Nothing more may come: every message made of every billing event so far has settled.
    await settled([
      [wsKey, ep.id],
      [ADMIN_KEY, operator.id],
    ]);
    // Deliveries to one endpoint run concurrently: no order is promised (created_at tells it).
    const got = receiver
      .at('/invoices')
      .map((d) => d.json)
      .sort((a, b) => a.created_at.localeCompare(b.created_at) || a.type.localeCompare(b.type));
    expect(got.map((b) => b.type)).toEqual([
      'invoice.created',
      'invoice.finalized',
      'invoice.payment_failed',
      'invoice.paid',
    ]);
    const facts = {
      workspace_id: ws,
      invoice_id: invoice.id,
      period: month.period,
      total: { amount: invoice.total, currency: 'usd' },
    };
    for (const b of got) expect(b.data).toMatchObject(facts);
    expect(got.map((b) => b.id)).toEqual([
      `invoice.created:${invoice.id}`,
      `invoice.finalized:${invoice.id}`,
      `invoice.payment_failed:${invoice.id}:evt_f${tag}`,
      `invoice.paid:${invoice.id}:evt_${tag}`,
    ]);
    expect(got[2].data.reason).toBe('card declined');
    expect(new Set(receiver.at('/invoices').map((d) => d.id)).size).toBe(4);
    // The operator endpoint hears every workspace's finalized invoices.
    expect(receiver.at('/operator').map((d) => [d.json.type, d.json.data.workspace_id])).toContainEqual([
      'invoice.finalized',
      ws,
    ]);
    expect(receiver.verificationFailures).toEqual([]);
  });

  it('a slow endpoint delays only itself, and a message that gave up is sent again on request', async () => {
    const slow = await createEndpoint(wsKey, '/slow', ['invoice.paid']);
    const fast = await createEndpoint(wsKey, '/fast', ['invoice.paid']);
    receiver.delays.set('/slow', 8000);
    for (let i = 0; i < 6; i++) await api(svc.url, 'POST', `/v1/webhook-endpoints/${slow.id}/test`, wsKey);
    const started = Date.now();
    await api(svc.url, 'POST', `/v1/webhook-endpoints/${fast.id}/test`, wsKey);
    await receiver.waitFor('the fast endpoint', () => receiver.at('/fast').length >= 1, 10_000);
    expect(Date.now() - started).toBeLessThan(5000); // not behind the slow endpoint's 8 s answers
    receiver.delays.delete('/slow');

    // Given up (a schedule of 5 attempts, every one 500), then resent on request.
    const stubborn = await createEndpoint(wsKey, '/stubborn', ['invoice.paid']);
    receiver.answers.set('/stubborn', [500, 500, 500, 500, 500]);
    const sent = await api(svc.url, 'POST', `/v1/webhook-endpoints/${stubborn.id}/test`, wsKey);
    let log = await deliveries(wsKey, stubborn.id);
    await until('five attempts, then given up', async () => {
      log = await deliveries(wsKey, stubborn.id);
      return log[0]?.status === 'gave_up';
    });
    expect(log[0]).toMatchObject({ status: 'gave_up' });
    expect(log[0].attempts).toHaveLength(5);
    const retry = await api(
      svc.url,
      'POST',
      `/v1/webhook-endpoints/${stubborn.id}/deliveries/${sent.body.message_id}/retry`,
      wsKey,
    );
    expect(retry.status).toBe(202);
    await receiver.waitFor('the retry', () => receiver.at('/stubborn').length >= 6);
    expect(receiver.at('/stubborn')[5]).toMatchObject({ id: sent.body.message_id, status: 204 });
    expect(
      (await api(svc.url, 'POST', `/v1/webhook-endpoints/${stubborn.id}/deliveries/msg_nope/retry`, wsKey))
        .status,
    ).toBe(404);
    expect(
      (
        await api(
          svc.url,
          'POST',
          `/v1/webhook-endpoints/${stubborn.id}/deliveries/${sent.body.message_id}/retry`,
          otherKey,
        )
      ).status,
    ).toBe(404);
  });

  it('a rotation: both secrets verify during the overlap', async () => {
    const ep = await createEndpoint(wsKey, '/rotated', ['invoice.paid']);
    const rotated = await api(svc.url, 'POST', `/v1/webhook-endpoints/${ep.id}/rotate-secret`, wsKey);
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(ep.secret);
    receiver.secrets.set('/rotated', [ep.secret, rotated.body.secret]);
    await api(svc.url, 'POST', `/v1/webhook-endpoints/${ep.id}/test`, wsKey);
    await receiver.waitFor('signed twice', () => receiver.at('/rotated').length >= 1);
    expect(receiver.at('/rotated')[0].signature.split(' ')).toHaveLength(2);
    expect(receiver.verificationFailures).toEqual([]);
  });

  it('a 410 disables the endpoint, and the operator endpoints hear endpoint.disabled', async () => {
    const ep = await createEndpoint(wsKey, '/gone', ['invoice.paid']);
    receiver.answers.set('/gone', [410]);
    await api(svc.url, 'POST', `/v1/webhook-endpoints/${ep.id}/test`, wsKey);
    await receiver.waitFor('disabled', () =>
      receiver
        .at('/operator')
        .some((d) => d.json.type === 'endpoint.disabled' && d.json.data.endpoint_id === ep.id),
    );
    expect((await api(svc.url, 'GET', `/v1/webhook-endpoints/${ep.id}`, wsKey)).body).toMatchObject({
      status: 'disabled',
    });
    expect(receiver.at('/gone')).toHaveLength(1);
    // Nothing more goes to a disabled endpoint: a message made for it gives up without a request.
    const unsent = await api(svc.url, 'POST', `/v1/webhook-endpoints/${ep.id}/test`, wsKey);
    await until('the message to the disabled endpoint gave up', async () =>
      (await deliveries(wsKey, ep.id)).some(
        (d) =>
          d.message_id === unsent.body.message_id &&
          d.status === 'gave_up' &&
          d.attempts.map((a) => [a.status_code, a.outcome]).join() === ',gave_up',
      ),
    );
    expect(receiver.at('/gone')).toHaveLength(1);

    // Enabled again (issue 24): by its workspace (another workspace: 404), deliveries resume.
    expect((await api(svc.url, 'POST', `/v1/webhook-endpoints/${ep.id}/enable`, otherKey)).status).toBe(404);
    expect((await api(svc.url, 'POST', `/v1/webhook-endpoints/nope/enable`, wsKey)).status).toBe(404);
    const enabled = await api(svc.url, 'POST', `/v1/webhook-endpoints/${ep.id}/enable`, wsKey);
    expect(enabled.status).toBe(200);
    expect(enabled.body).toMatchObject({ id: ep.id, status: 'enabled', disabled_reason: null });
    expect((await api(svc.url, 'GET', `/v1/webhook-endpoints/${ep.id}`, wsKey)).body.status).toBe('enabled');
    // Again: nothing changes (no second event; still enabled).
    expect((await api(svc.url, 'POST', `/v1/webhook-endpoints/${ep.id}/enable`, ADMIN_KEY)).body.status).toBe(
      'enabled',
    );
    const sent = await api(svc.url, 'POST', `/v1/webhook-endpoints/${ep.id}/test`, wsKey);
    await receiver.waitFor('a delivery after enabling', () => receiver.at('/gone').length === 2);
    expect(receiver.at('/gone')[1]).toMatchObject({ id: sent.body.message_id, status: 204 });
    // And a 410 after enabling disables it again: a new disable, heard again by the operator.
    receiver.answers.set('/gone', [410]);
    await api(svc.url, 'POST', `/v1/webhook-endpoints/${ep.id}/test`, wsKey);
    await receiver.waitFor(
      'disabled twice',
      () =>
        receiver
          .at('/operator')
          .filter((d) => d.json.type === 'endpoint.disabled' && d.json.data.endpoint_id === ep.id).length ===
        2,
    );
    expect((await api(svc.url, 'GET', `/v1/webhook-endpoints/${ep.id}`, wsKey)).body.status).toBe('disabled');
  });

  it('the receiver is down while gpumeter restarts: the message is delivered after the restart, with the same id', async () => {
    const down = new WebhookReceiver();
    await down.start();
    const port = down.port;
    await down.stop(); // nothing listens on the port now
    const r = await api(svc.url, 'POST', '/v1/webhook-endpoints', wsKey, {
      url: `http://127.0.0.1:${port}/later`,
      events: ['invoice.paid'],
    });
    const ep = r.body as { id: string; secret: string };
    const sent = await api(svc.url, 'POST', `/v1/webhook-endpoints/${ep.id}/test`, wsKey);
    // Wait for at least one failed attempt in the log, then kill the service mid-schedule.
    await until(
      'a failed attempt logged',
      async () => ((await deliveries(wsKey, ep.id))[0]?.attempts.length ?? 0) >= 1,
    );
    await svc.kill('SIGKILL');
    const later = new WebhookReceiver();
    later.secrets.set('/later', [ep.secret]);
    await later.start(port);
    try {
      svc = await new ServiceProcess('webhooks', env, 'all').start();
      await later.waitFor('delivered after the restart', () => later.at('/later').length >= 1, 60_000);
      expect(later.at('/later')[0].id).toBe(sent.body.message_id);
      expect(later.verificationFailures).toEqual([]);
    } finally {
      await later.stop();
    }
  });

  it('budget alerts in near real time, each once (re-sent usage, a restart, a second replica), and the hard cap flips the allowance both ways', async () => {
    const ep = await createEndpoint(wsKey, '/alerts', [
      'usage.threshold_reached',
      'budget.exceeded',
      'budget.forecast_exceeded',
    ]);
    const budget = await api(svc.url, 'PUT', `/v1/workspaces/${ws}/budget`, wsKey, {
      monthly_limit: '100.00',
      thresholds: [50, 100],
      enforce: true,
    });
    expect(budget.status).toBe(200);
    const allowance = async () =>
      (await api(svc.url, 'GET', `/v1/workspaces/${ws}/allowance`, AGENT_TOKEN)).body;
    // The allowance's memory reloads every second: the new budget shows within that.
    await until('the allowance knows the budget', async () => (await allowance()).enforced === true, 4_000);
    expect(await allowance()).toMatchObject({ workspace_id: ws, allowed: true, enforced: true });
    expect((await api(svc.url, 'GET', `/v1/workspaces/${ws}/allowance`, wsKey)).status).toBe(403);
    expect((await api(svc.url, 'GET', '/v1/workspaces/nope/allowance', ADMIN_KEY)).status).toBe(404);

    const now = Date.now();
    const open = monthBack(0, now);
    const { events } = usageEvents({
      workspaces: [ws],
      perWorkspace: 120,
      fromMs: Math.max(open.start, now - 12 * 3_600_000),
      toMs: now - 60_000,
      seed: 93,
      idPrefix: `al${tag}`,
    });
    const acceptedAt = Date.now();
    await postEvents(svc.url, events);
    await receiver.waitFor('all alerts', () => receiver.at('/alerts').length >= 4, 60_000);
    const firstAt = Date.now();
    expect(firstAt - acceptedAt).toBeLessThan(60_000);
    const alertTypes = () =>
      receiver
        .at('/alerts')
        .map(
          (d) => `${d.json.type}:${typeof d.json.data.threshold === 'number' ? d.json.data.threshold : ''}`,
        )
        .sort();
    expect(alertTypes()).toEqual([
      'budget.exceeded:',
      'budget.forecast_exceeded:',
      'usage.threshold_reached:100',
      'usage.threshold_reached:50',
    ]);
    const exceeded = receiver.at('/alerts').find((d) => d.json.type === 'budget.exceeded')!.json;
    expect(exceeded.id).toBe(`alert:${ws}:${open.period}:100.00:exceeded`);
    expect(exceeded.data).toMatchObject({
      workspace_id: ws,
      period: open.period,
      monthly_limit: { amount: '100.00', currency: 'usd' },
      enforced: true,
    });
    expect(Number((exceeded.data.spend as { amount: string }).amount)).toBeGreaterThan(100);
    // The cap: the allowance says no within 60 s of the crossing.
    await until('the allowance says no', async () => (await allowance()).allowed === false);
    expect(await allowance()).toMatchObject({
      allowed: false,
      reason: 'budget_exceeded',
      monthly_limit: { amount: '100.00' },
    });

    // The month's alerts as the workspace reads them (the dashboard's budget card): each with
    // the endpoints it was sent to and how that delivery stands; the cap is no webhook.
    type AlertView = {
      id: string;
      type: string;
      threshold: number | null;
      notified: { endpoint_id: string; status: string }[];
    };
    const alertsUrl = `/v1/workspaces/${ws}/budget/alerts?period=${open.period}`;
    let listed: AlertView[] = [];
    await until('five alerts, each delivered', async () => {
      listed = (await api(svc.url, 'GET', alertsUrl, wsKey)).body.alerts;
      return (
        listed.length === 5 &&
        listed.every((a) => a.type === 'budget.cap_reached' || a.notified[0]?.status === 'succeeded')
      );
    });
    expect(listed.map((a) => `${a.type}:${a.threshold ?? ''}`).sort()).toEqual([
      'budget.cap_reached:',
      'budget.exceeded:',
      'budget.forecast_exceeded:',
      'budget.threshold_reached:100',
      'budget.threshold_reached:50',
    ]);
    for (const a of listed)
      expect(a.notified).toEqual(
        a.type === 'budget.cap_reached'
          ? []
          : [{ endpoint_id: ep.id, url: receiver.url('/alerts'), status: 'succeeded' }],
      );
    expect(listed.find((a) => a.type === 'budget.exceeded')!.id).toBe(exceeded.id);
    expect((await api(svc.url, 'GET', alertsUrl, otherKey)).status).toBe(404);
    expect(
      (await api(svc.url, 'GET', `/v1/workspaces/${ws}/budget/alerts?period=2026-13`, wsKey)).status,
    ).toBe(400);
    expect((await api(svc.url, 'GET', alertsUrl, ADMIN_KEY)).body.alerts).toHaveLength(5);

    // Nothing alerts twice: the same usage again, a restart, a second replica beside it.
    await postEvents(svc.url, events);
    await svc.kill();
    svc = await new ServiceProcess('webhooks', env, 'all').start();
    const second = await new ServiceProcess('webhooks-2', env, 'all').start();
    try {
      // Both replicas have evaluated every budget since (each one's first evaluation is a full
      // sweep), and every message of what they decided has settled: only then is "once" proven.
      for (const replica of [svc, second])
        await until(
          `a full budget evaluation on ${replica.name}`,
          async () => (await replica.metric('gpumeter_budget_evaluations_total', 'full')) >= 1,
        );
      await settled([[wsKey, ep.id]]);
      expect(alertTypes()).toHaveLength(4);
      expect(new Set(receiver.at('/alerts').map((d) => d.id)).size).toBe(4);
      // Raising the limit allows again, and the new limit is a new budget (its own alerts).
      await api(svc.url, 'PUT', `/v1/workspaces/${ws}/budget`, wsKey, {
        monthly_limit: '1000000.00',
        thresholds: [90],
        enforce: true,
      });
      await until('the allowance says yes again', async () => (await allowance()).allowed === true);
      expect(await allowance()).toMatchObject({ allowed: true, monthly_limit: { amount: '1000000.00' } });
    } finally {
      await second.kill();
    }
    expect(receiver.verificationFailures).toEqual([]);
  });

  it('under production configuration, only public https endpoints are accepted (SSRF)', async () => {
    const prod = await new ServiceProcess('webhooks-prod', env, 'api').start(productionOverrides());
    try {
      for (const url of [
        'http://hooks.example.com/x', // not https
        'https://10.1.2.3/x', // private
        'https://169.254.169.254/latest/meta-data/', // the metadata address
        'https://[fd00:ec2::254]/x', // its IPv6 form
        'https://[::ffff:127.0.0.1]/x', // loopback, IPv4-mapped
        'https://localhost/x', // a name for loopback
        receiver.url('/local'), // the local receiver itself
      ]) {
        const r = await api(prod.url, 'POST', '/v1/webhook-endpoints', ADMIN_KEY, {
          url,
          events: ['invoice.paid'],
        });
        expect({ url, status: r.status, field: r.body.error?.details?.[0]?.field }).toEqual({
          url,
          status: 400,
          field: 'url',
        });
      }
      const ok = await api(prod.url, 'POST', '/v1/webhook-endpoints', ADMIN_KEY, {
        url: 'https://hooks.example.com/gpumeter',
        events: ['invoice.paid'],
      });
      expect(ok.status).toBe(201);
      // Not the last line of defence: a name that resolves to a private address is refused when
      // dialled, and no redirect is followed (src/webhooks/endpoint-url.spec.ts, on a real socket).
      await api(prod.url, 'DELETE', `/v1/webhook-endpoints/${ok.body.id}`, ADMIN_KEY);
    } finally {
      await prod.kill();
    }
  });

  it('a replay rebuilds the delivery log and sends no webhook', async () => {
    const every = async () =>
      (await api(svc.url, 'GET', '/v1/webhook-endpoints', ADMIN_KEY)).body.endpoints.map(
        (e: { id: string }) => [ADMIN_KEY, e.id] as [string, string],
      );
    await settled(await every());
    const before = receiver.deliveries.length;
    const kafka = testKafka(env);
    const billingTopic = kafka.topic('billing.events.v1');
    const billingBefore = await kafka.messageCount(billingTopic);
    const result = await runCli(env, ['replay', '--database', `${env.CLICKHOUSE_DATABASE}_r`]);
    expect(result.code).toBe(0);
    // A replay writes nothing to Kafka, so there is nothing a webhook could be made of; and the
    // live dispatcher, caught up again, has sent nothing since.
    expect(await kafka.messageCount(billingTopic)).toBe(billingBefore);
    await kafka.close();
    await settled(await every());
    expect(receiver.deliveries.length).toBe(before);
    const replayed = chReader({ ...env, CLICKHOUSE_DATABASE: `${env.CLICKHOUSE_DATABASE}_r` });
    const live = chReader(env);
    const q =
      'SELECT message_id, attempt, outcome, status_code FROM webhook_attempts FINAL ORDER BY message_id, attempt';
    expect(await replayed.all(q)).toEqual(await live.all(q));
    await replayed.close();
    await live.close();
  });
});
