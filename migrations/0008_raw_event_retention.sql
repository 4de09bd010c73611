-- Raw event retention (issue 14). usage_events grows by billions of rows a month; once a
-- month is closed and old enough, its partition is dropped (src/retention). Before that, the
-- month is "retired": what readers still need from its raw events is kept here, so every
-- answer about the month stays the same after the drop.

-- The usage of the hours a price change cuts, per piece (the only raw reads of a closed
-- month: src/metering/price-split-hours.ts), with the columns usage_hourly has. Written by
-- the retirement from the raw events, exactly as UsageRollupsRepository sums them.
CREATE TABLE IF NOT EXISTS usage_split_pieces
(
    month            UInt32,
    workspace_id     String,
    from_ms          UInt64,
    to_ms            UInt64,
    gpu_type         String,
    app_id           String,
    function_id      String,
    region           String,
    gpu_ms           UInt64,
    cpu_millicore_ms UInt64,
    memory_mib_ms    UInt64,
    events           UInt64
)
ENGINE = MergeTree()
PARTITION BY month
ORDER BY (workspace_id, from_ms, gpu_type, app_id, function_id, region);

-- Each workspace's usage in the month as its raw events summed it at retirement (checked
-- equal to the hourly rollups then): what reconciliation compares the rollups with later.
CREATE TABLE IF NOT EXISTS retired_usage_totals
(
    month            UInt32,
    workspace_id     String,
    gpu_ms           UInt64,
    cpu_millicore_ms UInt64,
    memory_mib_ms    UInt64,
    events           UInt64
)
ENGINE = MergeTree()
PARTITION BY month
ORDER BY (workspace_id, month);

-- One row per retired month, written last: a month is retired when it has its row (the
-- pieces and totals above are complete then). price_cuts_ms: the instants inside the month's
-- hours where a price segment starts, which the pieces were cut at.
CREATE TABLE IF NOT EXISTS retired_usage_months
(
    month            UInt32,
    price_cuts_ms    Array(UInt64),
    events           UInt64,
    gpu_ms           UInt64,
    retired_at_ms    UInt64
)
ENGINE = ReplacingMergeTree()
ORDER BY month;
