-- Credit grants (issue 15), projected from credit_grant.created / credit_grant.voided on
-- billing.events.v1. Amounts are decimal strings in USD (whole cents), never floats.
CREATE TABLE IF NOT EXISTS credit_grants
(
    grant_id         String,
    workspace_id     String,
    kind             String,
    amount           String,
    currency         String,
    priority         UInt8,
    effective_at_ms  UInt64,
    expires_at_ms    UInt64,
    reason           String,
    created_at_ms    UInt64,
    event_id         String
)
ENGINE = ReplacingMergeTree()
ORDER BY (workspace_id, grant_id);

-- A voided grant (its unused part voided): the first voiding of a grant counts.
CREATE TABLE IF NOT EXISTS credit_grant_voids
(
    grant_id         String,
    workspace_id     String,
    voided_at_ms     UInt64,
    reason           String,
    event_id         String
)
ENGINE = ReplacingMergeTree()
ORDER BY (workspace_id, grant_id, voided_at_ms);

-- What each finalized invoice took of each grant (its credit lines, own and adjustment),
-- projected from invoice.finalized: the ledger balances are computed from. The first
-- finalization of an invoice counts, as for its document.
CREATE TABLE IF NOT EXISTS credit_grant_consumption
(
    workspace_id     String,
    grant_id         String,
    invoice_id       String,
    amount           String,
    finalized_at_ms  UInt64,
    event_id         String
)
ENGINE = ReplacingMergeTree()
ORDER BY (workspace_id, grant_id, invoice_id);
