-- A workspace's own billing threshold (workspace.billing_threshold_set, src/workspaces): the
-- latest event per workspace wins (version = the event's time). follows_plan = 1: the plan's
-- threshold applies (the override was removed); else `amount`, '' meaning no threshold at all.
CREATE TABLE IF NOT EXISTS workspace_billing_thresholds
(
    workspace_id  String,
    follows_plan  UInt8,
    amount        String,
    set_at_ms     UInt64,
    event_id      String
)
ENGINE = ReplacingMergeTree(set_at_ms)
ORDER BY workspace_id;
