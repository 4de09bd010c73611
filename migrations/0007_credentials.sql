-- Credentials (issue 10): every workspace API key and every agent token, projected from
-- workspace.created / workspace.key_created / agent_token.created. Only the SHA-256 of a
-- secret is stored. Each API process keeps the active ones in memory (src/auth).
CREATE TABLE IF NOT EXISTS credentials
(
    credential_id  String,
    kind           String,
    workspace_id   String,
    name           String,
    sources        Array(String),
    secret_hash    String,
    secret_prefix  String,
    created_at_ms  UInt64,
    event_id       String
)
ENGINE = ReplacingMergeTree()
ORDER BY credential_id;

-- Revocations (workspace.key_revoked, agent_token.revoked): append-only, a revoked credential
-- never comes back.
CREATE TABLE IF NOT EXISTS credential_revocations
(
    credential_id  String,
    revoked_at_ms  UInt64,
    event_id       String
)
ENGINE = ReplacingMergeTree()
ORDER BY credential_id;

-- The key every existing workspace was created with (the id is derived from its hash, as the
-- projection of workspace.created derives it).
INSERT INTO credentials
SELECT concat('wk_', substring(api_key_hash, 1, 16)), 'workspace', id, 'initial', emptyArrayString(),
       api_key_hash, api_key_prefix, created_at_ms, ''
FROM workspaces FINAL;
