-- Every domain event of billing.events.v1, as published (audit trail and replay source for
-- the projections below). One row per event id.
CREATE TABLE IF NOT EXISTS billing_events
(
    id             String,
    type           String,
    workspace_id   String,
    occurred_at_ms UInt64,
    payload        String
)
ENGINE = ReplacingMergeTree()
ORDER BY (workspace_id, id);

-- Workspaces, projected from workspace.* events. The API key is stored only as its SHA-256.
-- Read with FINAL (or argMax by version): a replay may insert the same version again.
CREATE TABLE IF NOT EXISTS workspaces
(
    id             String,
    name           String,
    email          String,
    api_key_hash   String,
    api_key_prefix String,
    created_at_ms  UInt64,
    version        UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY id;
