-- Hard caps (issue 9): a budget may be enforced; GET /v1/workspaces/{id}/allowance then says
-- no once the month's spend reaches the limit. Older budget rows read as not enforced.
ALTER TABLE workspace_budgets ADD COLUMN enforce UInt8 DEFAULT 0;

-- Budget alerts, each decided once (src/budgets): a billing event with a deterministic id per
-- workspace, month, limit and kind (threshold, exceeded, forecast, cap).
CREATE TABLE IF NOT EXISTS budget_alerts
(
    event_id       String,
    workspace_id   String,
    period         String,
    monthly_limit  String,
    kind           String,
    threshold      UInt16,
    spend          String,
    decided_at_ms  UInt64
)
ENGINE = ReplacingMergeTree()
ORDER BY (workspace_id, period, event_id);
