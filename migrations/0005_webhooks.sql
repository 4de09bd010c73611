-- Outgoing webhooks (src/webhooks), all projections of billing events, so replay rebuilds them.
-- Endpoints are folded from their changes on read (created, secret rotated, disabled, deleted):
-- a handful of rows per endpoint, and no read-modify-write in the projection.
CREATE TABLE IF NOT EXISTS webhook_endpoint_changes
(
    endpoint_id   String,
    workspace_id  String,
    event_id      String,
    type          String,
    at_ms         UInt64,
    data          String
)
ENGINE = ReplacingMergeTree()
ORDER BY (endpoint_id, event_id);

-- One row per message: one webhook event for one endpoint. `partition` is the
-- billing.events.v1 partition of the event it came from: the dispatcher that owns that
-- partition delivers it, so several replicas never send the same message.
CREATE TABLE IF NOT EXISTS webhook_messages
(
    id              String,
    endpoint_id     String,
    workspace_id    String,
    type            String,
    body            String,
    source_event_id String,
    partition       UInt32,
    created_at_ms   UInt64
)
ENGINE = ReplacingMergeTree()
ORDER BY (endpoint_id, id);

-- Every delivery attempt, as the delivery log shows it. outcome: succeeded | failed (a retry is
-- due at next_attempt_at_ms) | gave_up (no retry left, or the endpoint is disabled).
CREATE TABLE IF NOT EXISTS webhook_attempts
(
    message_id         String,
    endpoint_id        String,
    attempt            UInt32,
    attempted_at_ms    UInt64,
    status_code        UInt32,
    duration_ms        UInt32,
    error              String,
    outcome            String,
    next_attempt_at_ms UInt64,
    event_id           String
)
ENGINE = ReplacingMergeTree()
ORDER BY (endpoint_id, message_id, attempt, event_id);
