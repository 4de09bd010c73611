-- Raw usage events: one row per accepted event, deduplicated by the consumer before insert
-- (see src/metering/README.md). Sorted by (ended_at, source, id) so that the consumer's
-- "have I stored these keys already?" lookup touches only the few granules around the
-- batch's end times. Quantities are integers: GPU-, millicore- and MiB-milliseconds.
CREATE TABLE IF NOT EXISTS usage_events
(
    workspace_id     String,
    source           String,
    id               String,
    container_id     String,
    app_id           String,
    function_id      String,
    region           String,
    provider         String,
    gpu_type         String,
    gpu_count        UInt8,
    cpu_millicores   UInt32,
    memory_mib       UInt32,
    started_at       DateTime,
    ended_at         DateTime,
    started_at_ms    UInt64,
    ended_at_ms      UInt64,
    gpu_ms           UInt64,
    cpu_millicore_ms UInt64,
    memory_mib_ms    UInt64,
    ingested_at_ms   UInt64,
    kafka_partition  UInt32,
    kafka_offset     UInt64,
    stored_at        DateTime DEFAULT now()
)
ENGINE = MergeTree()
PARTITION BY toYYYYMM(ended_at)
ORDER BY (ended_at, source, id);

-- Hourly rollups by workspace × gpu_type × app × function × region. An event that crosses
-- an hour boundary is split at the boundary, so each hour (and so each calendar month)
-- holds exactly the milliseconds used in it. Read with sum() … GROUP BY, never relying on
-- background merges.
CREATE TABLE IF NOT EXISTS usage_hourly
(
    workspace_id     String,
    hour             DateTime,
    gpu_type         String,
    app_id           String,
    function_id      String,
    region           String,
    gpu_ms           UInt64,
    cpu_millicore_ms UInt64,
    memory_mib_ms    UInt64,
    events           UInt64
)
ENGINE = SummingMergeTree((gpu_ms, cpu_millicore_ms, memory_mib_ms, events))
PARTITION BY toYYYYMM(hour)
ORDER BY (workspace_id, hour, gpu_type, app_id, function_id, region);

-- Fed only by inserts into usage_events, which the consumer makes only for events it has
-- never stored: a duplicate never reaches this view (the 18.16 doc shows why that matters).
CREATE MATERIALIZED VIEW IF NOT EXISTS usage_hourly_mv TO usage_hourly AS
SELECT
    workspace_id,
    toDateTime(intDiv(tupleElement(piece, 1), 3600000) * 3600) AS hour,
    gpu_type,
    app_id,
    function_id,
    region,
    toUInt64(gpu_count) * toUInt64(tupleElement(piece, 2) - tupleElement(piece, 1)) AS gpu_ms,
    toUInt64(cpu_millicores) * toUInt64(tupleElement(piece, 2) - tupleElement(piece, 1)) AS cpu_millicore_ms,
    toUInt64(memory_mib) * toUInt64(tupleElement(piece, 2) - tupleElement(piece, 1)) AS memory_mib_ms,
    toUInt64(tupleElement(piece, 1) = started_at_ms) AS events
FROM usage_events
ARRAY JOIN
    if(intDiv(started_at_ms, 3600000) = intDiv(ended_at_ms - 1, 3600000),
       [tuple(started_at_ms, ended_at_ms)],
       [tuple(started_at_ms, (intDiv(started_at_ms, 3600000) + 1) * 3600000),
        tuple((intDiv(started_at_ms, 3600000) + 1) * 3600000, ended_at_ms)]) AS piece;
