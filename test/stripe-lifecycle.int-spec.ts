import { randomBytes } from 'node:crypto';
import { chReader } from './support/clickhouse';
import { api, postEvents } from './support/http';
import {
  createPlannedWorkspaces,
  LOCALSTRIPE_BILLING_ENV,
  LOCALSTRIPE_URL,
  monthBack,
  runInvoiceMonth,
  stripeAt,
  stripeHoldings,
  usageEvents,
} from './support/billing';
import { centsToString, OracleEvent, PLANS, oracleListInvoice } from './support/invoice-oracle';
import { ServiceProcess } from './support/service-process';
import { ADMIN_KEY, isolatedEnv } from './support/test-env';
import { WebhookReceiver } from './support/webhook-receiver';
import { until } from './support/wait';

/**
 * Issue 24: the whole Stripe lifecycle against a stateful emulator — push, finalize, paid or
 * failed, and every webhook both ways — with the code exactly as it runs against Stripe (no
 * emulator switch). localstripe, patched (stack/stripe/patch-localstripe.py) to finalize and to
 * report payments as Stripe does, signs its webhooks to the service like Stripe; the payments
 * are made as Stripe's automatic collection makes them (`POST /v1/invoices/{id}/pay`, with the
 * customer's card). Every total is the independent oracle's.
 */
jest.setTimeout(600_000);

const WEBHOOK_SECRET = 'whsec_lifecycletestsecret';

describe('the Stripe lifecycle, with state (localstripe)', () => {
  const tag = randomBytes(3).toString('hex');
  const [payer, decliner, covered] = ['pay', 'decline', 'free'].map((x) => `lc${tag}-${x}`);
  const month = monthBack(1);
  const stripe = stripeAt(LOCALSTRIPE_URL);
  const receiver = new WebhookReceiver();
  const hookId = `gpumeter-lifecycle-${tag}`;
  const oracle: OracleEvent[] = [];
  let svc: ServiceProcess;
  let keys: Record<string, string>;

  /** Registers (or, with no events, silences) localstripe's webhook to this test's service. */
  const localstripeWebhook = async (url: string, events: string[]) => {
    const r = await fetch(`${LOCALSTRIPE_URL}/_config/webhooks/${hookId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url, secret: WEBHOOK_SECRET, events }),
    });
    expect(r.status).toBe(200);
  };

  const invoice = async (ws: string) =>
    (await api(svc.url, 'GET', `/v1/invoices/inv_${month.period}_${ws}`, ADMIN_KEY)).body;
  const want = (ws: string) =>
    oracleListInvoice(oracle, ws, month.start, month.end, ws === payer ? PLANS.team : PLANS.starter);
  /** Each line of the three invoices, once: what Stripe must hold. */
  const everyLineOnce = async () => {
    const ids: string[] = [];
    for (const ws of [payer, decliner, covered])
      ids.push(...(await invoice(ws)).lines.map((l: { id: string }) => l.id));
    expect(ids.length).toBeGreaterThan(6);
    return new Map(ids.map((id) => [id, 1]));
  };
  /** Gives the workspace's Stripe customer a card (as the customer would, in Stripe's checkout). */
  const giveCard = async (customer: string, number: string) => {
    const token = await stripe.tokens.create({
      card: { number, exp_month: '12', exp_year: '2035', cvc: '123' },
    });
    await stripe.customers.createSource(customer, { source: token.id });
  };

  beforeAll(async () => {
    await receiver.start();
    const env = await isolatedEnv('lifecycle', {
      ...LOCALSTRIPE_BILLING_ENV,
      INVOICE_GRACE_HOURS: '0',
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      WEBHOOK_RETRY_SCHEDULE_SECONDS: '0,1,1',
    });
    svc = await new ServiceProcess('lifecycle', env, 'all').start();
    await localstripeWebhook(`${svc.url}/v1/stripe/webhooks`, [
      'invoice.created',
      'invoice.finalized',
      'invoice.paid',
      'invoice.payment_succeeded',
      'invoice.payment_failed',
    ]);
    keys = await createPlannedWorkspaces(svc.url, [payer, decliner, covered], (i) =>
      i === 0 ? 'team' : 'starter',
    );
    for (const ws of [payer, decliner, covered]) {
      const ep = await api(svc.url, 'POST', '/v1/webhook-endpoints', keys[ws], {
        url: receiver.url(`/${ws}`),
        events: ['invoice.created', 'invoice.finalized', 'invoice.paid', 'invoice.payment_failed'],
      });
      expect(ep.status).toBe(201);
      receiver.secrets.set(`/${ws}`, [ep.body.secret]);
    }
    const { events, oracle: used } = usageEvents({
      workspaces: [payer, decliner],
      perWorkspace: 25,
      fromMs: month.start,
      toMs: month.end,
      seed: 2424,
      idPrefix: `lc${tag}`,
    });
    // `covered` uses less than its plan's credits: an invoice of nothing due.
    const small = usageEvents({
      workspaces: [covered],
      perWorkspace: 1,
      fromMs: month.start,
      toMs: month.start + 120_000,
      seed: 2425,
      idPrefix: `lcs${tag}`,
    });
    oracle.push(...used, ...small.oracle);
    await postEvents(svc.url, [...events, ...small.events]);
    const ch = chReader(env);
    await until(
      'usage stored',
      async () => (await ch.totals()).hourlyEvents >= BigInt(events.length + small.events.length),
    );
    await ch.close();
  });

  afterAll(async () => {
    // localstripe is shared by every suite and cannot forget a webhook: silence this one.
    await localstripeWebhook(`${svc?.url ?? 'http://127.0.0.1:9'}/v1/stripe/webhooks`, []).catch(
      () => undefined,
    );
    await svc?.kill();
    await receiver.stop();
  });

  it('push → finalize: each invoice once in Stripe, open (or paid when nothing is due), our lines, periods and total', async () => {
    expect(await runInvoiceMonth(svc.url, month.period)).toMatchObject({
      status: 'completed',
      errors: [],
      counts: { pushed: 3 },
    });
    expect(want(covered).totalCents).toBe(0n);
    for (const ws of [payer, decliner, covered]) {
      const doc = await invoice(ws);
      expect([ws, doc.total]).toEqual([ws, centsToString(want(ws).totalCents)]);
      const s = await stripe.invoices.retrieve(doc.stripe.invoice_id);
      expect({ ws, status: s.status, total: s.total, ours: s.metadata?.gpumeter_invoice_id }).toEqual({
        ws,
        status: ws === covered ? 'paid' : 'open',
        total: Number(want(ws).totalCents),
        ours: doc.id,
      });
      expect(s.status_transitions.finalized_at).toBeGreaterThan(0);
      // Every line once, each with the month as its period (the field Stripe shows on the invoice).
      const lines = await stripe.invoices
        .listLineItems(s.id, { limit: 100 })
        .autoPagingToArray({ limit: 1000 });
      expect(lines.map((l) => l.metadata?.gpumeter_line_id).sort()).toEqual(
        doc.lines.map((l: { id: string }) => l.id).sort(),
      );
      for (const l of lines) expect(l.period).toEqual({ start: month.start / 1000, end: month.end / 1000 });
    }
    const holdings = await stripeHoldings(stripe, new Set([payer, decliner, covered]));
    expect(holdings.lineCounts).toEqual(await everyLineOnce());
    expect([...holdings.invoices.values()].map((i) => i.count)).toEqual([1, 1, 1]);
    // Nothing due: Stripe's invoice.paid came back, and the invoice is paid here too.
    await until('the covered invoice paid', async () => (await invoice(covered)).status === 'paid');
  });

  it('paid: the customer’s card is charged, Stripe says invoice.paid, the invoice is paid and the workspace told once', async () => {
    const doc = await invoice(payer);
    expect(doc.status).toBe('pushed');
    await giveCard(doc.stripe.customer_id, '4242424242424242');
    const paid = await stripe.invoices.pay(doc.stripe.invoice_id);
    expect({ status: paid.status, amount_paid: paid.amount_paid }).toEqual({
      status: 'paid',
      amount_paid: Number(want(payer).totalCents),
    });
    await until('paid here', async () => (await invoice(payer)).status === 'paid');
  });

  it('failed: a declined card, Stripe says invoice.payment_failed; paid later with another card, it is paid', async () => {
    const doc = await invoice(decliner);
    await giveCard(doc.stripe.customer_id, '4000000000000341');
    await expect(stripe.invoices.pay(doc.stripe.invoice_id)).rejects.toMatchObject({
      statusCode: 402,
      code: 'card_declined',
    });
    await until('payment failed here', async () => (await invoice(decliner)).status === 'payment_failed');
    // The customer adds a card that works; the next collection attempt succeeds.
    await giveCard(doc.stripe.customer_id, '4242424242424242');
    const customer = await stripe.customers.retrieve(doc.stripe.customer_id);
    const sources = await stripe.customers.listSources(customer.id, { object: 'card' });
    const good = sources.data.find((c) => 'last4' in c && c.last4 === '4242')!;
    await stripe.customers.update(customer.id, { default_source: good.id });
    expect((await stripe.invoices.pay(doc.stripe.invoice_id)).status).toBe('paid');
    await until('paid after the failure', async () => (await invoice(decliner)).status === 'paid');
  });

  it('each workspace heard each fact once, with its own signed webhook; a run again pushes nothing; the month reconciles with Stripe', async () => {
    const facts: Record<string, string[]> = {
      [payer]: ['invoice.created', 'invoice.finalized', 'invoice.paid'],
      [decliner]: ['invoice.created', 'invoice.finalized', 'invoice.payment_failed', 'invoice.paid'],
      [covered]: ['invoice.created', 'invoice.finalized', 'invoice.paid'],
    };
    for (const [ws, types] of Object.entries(facts))
      await receiver.waitFor(
        `${ws}: ${types.join(', ')}`,
        () => receiver.at(`/${ws}`).length >= types.length,
      );
    for (const [ws, types] of Object.entries(facts)) {
      const got = receiver.at(`/${ws}`).map((d) => d.json);
      expect([ws, got.map((b) => b.type).sort()]).toEqual([ws, [...types].sort()]);
      expect(new Set(got.map((b) => b.id)).size).toBe(types.length);
      for (const b of got)
        expect(b.data).toMatchObject({
          workspace_id: ws,
          invoice_id: `inv_${month.period}_${ws}`,
          total: { amount: centsToString(want(ws).totalCents), currency: 'usd' },
        });
    }
    expect(receiver.verificationFailures).toEqual([]);

    expect(await runInvoiceMonth(svc.url, month.period)).toMatchObject({
      status: 'completed',
      counts: { pushed: 0 },
    });
    const holdings = await stripeHoldings(stripe, new Set([payer, decliner, covered]));
    expect(holdings.lineCounts).toEqual(await everyLineOnce());
    expect([...holdings.invoices.values()].map((i) => i.count)).toEqual([1, 1, 1]);
    const report = await api(
      svc.url,
      'GET',
      `/v1/reconciliation?period=${month.period}&stripe=true`,
      ADMIN_KEY,
    );
    expect(report.body.differences).toEqual([]);
    expect(report.body).toMatchObject({ ok: true, stripe: { checked: 3, skipped: false } });
  });
});
