-- Workspace budgets (workspace.budget_set events, src/workspaces): the latest event per
-- workspace wins (version = the event's time; ties cannot matter, one writer per request).
-- A removed budget is a row with has_limit = 0, so a later read never finds an older limit.
CREATE TABLE IF NOT EXISTS workspace_budgets
(
    workspace_id   String,
    has_limit      UInt8,
    monthly_limit  String,
    thresholds     Array(UInt16),
    set_at_ms      UInt64,
    event_id       String
)
ENGINE = ReplacingMergeTree(set_at_ms)
ORDER BY workspace_id;
