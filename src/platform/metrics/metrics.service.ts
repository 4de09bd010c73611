import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of every role, served as text by GET /metrics. */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly exportsInFlight = new Gauge({
    name: 'gpumeter_exports_in_flight',
    help: 'Finance exports being streamed now',
    labelNames: ['export'],
    registers: [this.registry],
  });
  readonly exportsEnded = new Counter({
    name: 'gpumeter_exports_total',
    help: 'Finance exports ended, by outcome (complete, abandoned by the client, failed)',
    labelNames: ['export', 'outcome'],
    registers: [this.registry],
  });
  readonly eventsAccepted = new Counter({
    name: 'gpumeter_ingest_events_accepted_total',
    help: 'Usage events accepted by POST /v1/events and acknowledged by Kafka',
    registers: [this.registry],
  });
  readonly eventsRejected = new Counter({
    name: 'gpumeter_ingest_events_rejected_total',
    help: 'Usage events refused by POST /v1/events, by first failing field',
    labelNames: ['field'],
    registers: [this.registry],
  });
  readonly consumerStored = new Counter({
    name: 'gpumeter_consumer_events_stored_total',
    help: 'Usage events the consumer stored in ClickHouse (first copies only)',
    registers: [this.registry],
  });
  readonly consumerRerouted = new Counter({
    name: 'gpumeter_consumer_rerouted_events_total',
    help: 'Usage events read outside their source’s partition and produced again keyed by their source',
    registers: [this.registry],
  });
  readonly consumerDuplicates = new Counter({
    name: 'gpumeter_consumer_duplicates_skipped_total',
    help: 'Copies of an already stored (source, id) that the consumer skipped',
    labelNames: ['where'],
    registers: [this.registry],
  });
  readonly dlqMessages = new Counter({
    name: 'gpumeter_dlq_messages_total',
    help: 'Messages sent to the dead-letter topic, by reason',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly billingDlqMessages = new Counter({
    name: 'gpumeter_billing_dlq_messages_total',
    help: 'Billing records a projection could not apply, sent to billing.events.dlq.v1, by reason',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly billingEventsUnknownType = new Counter({
    name: 'gpumeter_billing_events_unknown_type_total',
    help: 'Billing events of a type no projection of this version handles (kept in the log, applied by none)',
    registers: [this.registry],
  });
  readonly unreadableRows = new Counter({
    name: 'gpumeter_unreadable_rows_total',
    help: 'Stored rows a reader could not parse and skipped, by table',
    labelNames: ['table'],
    registers: [this.registry],
  });
  readonly consumerLag = new Gauge({
    name: 'gpumeter_consumer_lag_messages',
    help: 'Messages between the last processed offset and the high watermark, per partition',
    labelNames: ['topic', 'partition'],
    registers: [this.registry],
  });
  readonly insertBatchSize = new Histogram({
    name: 'gpumeter_clickhouse_insert_batch_rows',
    help: 'Rows per ClickHouse insert of usage events',
    buckets: [1, 10, 100, 500, 1000, 5000, 10000, 20000, 50000],
    registers: [this.registry],
  });
  readonly insertSeconds = new Histogram({
    name: 'gpumeter_clickhouse_insert_seconds',
    help: 'Latency of ClickHouse inserts of usage events (dedupe lookup included)',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly storeFailures = new Counter({
    name: 'gpumeter_consumer_store_failures_total',
    help: 'Failed attempts to store a batch (retried with backoff; offsets not advanced)',
    registers: [this.registry],
  });

  readonly stripeRequests = new Counter({
    name: 'gpumeter_stripe_requests_total',
    help: 'Requests to the Stripe API (each retry counts), by method, path (ids replaced by :id) and status',
    labelNames: ['method', 'path', 'status'],
    registers: [this.registry],
  });
  readonly invoicesPushed = new Counter({
    name: 'gpumeter_invoices_pushed_total',
    help: 'Finalized invoices pushed to Stripe',
    registers: [this.registry],
  });
  readonly invoicePushFailures = new Counter({
    name: 'gpumeter_invoice_push_failures_total',
    help: 'Attempts to push an invoice to Stripe that failed (the next run retries them)',
    registers: [this.registry],
  });

  readonly budgetEvaluations = new Counter({
    name: 'gpumeter_budget_evaluations_total',
    help: 'Budget alert evaluations completed, by scope (full: every budget; usage: the workspaces that got usage)',
    labelNames: ['scope'],
    registers: [this.registry],
  });
  readonly budgetAlertsPublished = new Counter({
    name: 'gpumeter_budget_alerts_published_total',
    help: 'Budget alerts this process decided and published (each alert is decided once across replicas)',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'gpumeter_process_' });
  }
}
