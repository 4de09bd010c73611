-- Plan assignments: the plan a workspace was created with (workspace.created) and later
-- changes (workspace.plan_changed), each from an instant. A workspace without a row is on
-- the default plan. The plan in force at a period's start applies to the whole period.
CREATE TABLE IF NOT EXISTS workspace_plans
(
    workspace_id      String,
    plan              String,
    effective_from_ms UInt64,
    event_id          String
)
ENGINE = ReplacingMergeTree()
ORDER BY (workspace_id, effective_from_ms, event_id);

-- Catalog changes (catalog.prices_changed, catalog.plan_changed) as published. The catalog
-- is small: it is read whole and ordered in code (src/catalog/price-catalog.ts).
CREATE TABLE IF NOT EXISTS catalog_changes
(
    event_id          String,
    type              String,
    effective_from_ms UInt64,
    published_at_ms   UInt64,
    data              String
)
ENGINE = ReplacingMergeTree()
ORDER BY event_id;

-- Invoice contents, one row per invoice id. version orders a draft below its finalization:
-- a draft's version is the time it was computed (below 2^41); a finalization's is
-- 2^62 minus its time, so that an invoice once finalized keeps its first finalized content
-- whatever order a replay applies events in. Read with FINAL.
CREATE TABLE IF NOT EXISTS invoice_documents
(
    id            String,
    workspace_id  String,
    period        String,
    finalized     UInt8,
    version       UInt64,
    document      String
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (workspace_id, period, id);

-- Lifecycle events after finalization (invoice.pushed, invoice.paid, invoice.payment_failed),
-- one row per event id; an invoice's state is read from all of its rows.
CREATE TABLE IF NOT EXISTS invoice_status_events
(
    workspace_id   String,
    invoice_id     String,
    event_id       String,
    type           String,
    occurred_at_ms UInt64,
    data           String
)
ENGINE = ReplacingMergeTree()
ORDER BY (workspace_id, invoice_id, event_id);

-- Periods whose invoices are all finalized (invoice.period_closed). Usage for a closed
-- period that arrives later is billed as adjustment lines on a later invoice.
CREATE TABLE IF NOT EXISTS closed_periods
(
    period       String,
    closed_at_ms UInt64,
    run_id       String
)
ENGINE = ReplacingMergeTree()
ORDER BY period;

-- Invoice runs (invoice_run.updated carries the whole state; version counts updates).
CREATE TABLE IF NOT EXISTS invoice_runs
(
    id            String,
    period        String,
    version       UInt64,
    updated_at_ms UInt64,
    state         String
)
ENGINE = ReplacingMergeTree(version)
ORDER BY id;

-- Which Stripe customer a workspace is (workspace.stripe_customer_linked).
CREATE TABLE IF NOT EXISTS stripe_customers
(
    workspace_id       String,
    stripe_customer_id String,
    linked_at_ms       UInt64
)
ENGINE = ReplacingMergeTree()
ORDER BY workspace_id;
