#!/usr/bin/env bash
# The main job end to end on this machine: dependencies, the local stack (Kafka, ClickHouse,
# the Stripe emulators), migrations, the service, a synthetic GPU workload through the real
# pipeline, a usage summary per workspace and GPU type checked against the workload's own
# ledger, then that month's invoices, pushed to the local Stripe emulator (localstripe).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ensure_node_deps
build
bash stack/stack.sh up

export GPUMETER_ENV=development
# Each demo run gets its own database, topics and consumer group, so it starts from a clean
# slate: last month is still open to invoicing however often the demo runs. (Earlier runs'
# data stays; 'gpumeter stack down' and removing .local/ clears everything.)
DEMO_RUN="$(date -u +%Y%m%d%H%M%S)"
export CLICKHOUSE_DATABASE="${CLICKHOUSE_DATABASE:-gpumeter_demo_$DEMO_RUN}"
export KAFKA_TOPIC_PREFIX="${KAFKA_TOPIC_PREFIX:-demo.$DEMO_RUN.}"
export KAFKA_CONSUMER_GROUP="${KAFKA_CONSUMER_GROUP:-gpumeter-demo-$DEMO_RUN}"
export ADMIN_API_KEY="${ADMIN_API_KEY:-demo-operator-key-change-me-0000}"
export INGEST_TOKENS="${INGEST_TOKENS:-demo-agent-token-change-me-0000}"
export PORT="${PORT:-3000}"
export LOG_LEVEL="${LOG_LEVEL:-warn}"
# The local Stripe emulator, and last month invoiced at once (no grace period) for the demo.
export STRIPE_API_URL="${STRIPE_API_URL:-http://127.0.0.1:8420}"
export INVOICE_GRACE_HOURS="${INVOICE_GRACE_HOURS:-0}"
export INVOICE_SCHEDULER_INTERVAL_SECONDS="${INVOICE_SCHEDULER_INTERVAL_SECONDS:-0}"

node bin/gpumeter migrate
mkdir -p .local/demo
node --max-semi-space-size=32 bin/gpumeter serve --role all >.local/demo/service.log 2>&1 &
SERVICE_PID=$!
trap 'kill -TERM $SERVICE_PID 2>/dev/null; wait $SERVICE_PID 2>/dev/null || true' EXIT
# Ready only when this service answers: another process on the port (an earlier run left
# running) would answer /readyz too, while this one died on EADDRINUSE.
for _ in $(seq 1 120); do
  kill -0 $SERVICE_PID 2>/dev/null || { cat .local/demo/service.log >&2; echo "gpumeter did not start (is port $PORT taken? set PORT)" >&2; exit 1; }
  curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && sleep 1 && kill -0 $SERVICE_PID 2>/dev/null && break
  sleep 0.5
done
kill -0 $SERVICE_PID 2>/dev/null || { cat .local/demo/service.log >&2; echo "gpumeter did not start (is port $PORT taken? set PORT)" >&2; exit 1; }
echo "gpumeter is serving on http://127.0.0.1:$PORT (OpenAPI at /docs and metrics at /metrics, for the operator key)"
# The workload runs in the last hours of last month, so that month can be invoiced now.
node bin/gpumeter simulate --url "http://127.0.0.1:$PORT" --month last --invoice "$@"
echo
# Then the month is reconciled link by link: Kafka, ClickHouse, the invoices, Stripe.
LAST_MONTH="$(date -u -d "$(date -u +%Y-%m-01) -1 month" +%Y-%m)"
curl -sf -H "Authorization: Bearer $ADMIN_API_KEY" \
  "http://127.0.0.1:$PORT/v1/reconciliation?period=$LAST_MONTH&stripe=true" >.local/demo/reconciliation.json
node -e '
  const r = JSON.parse(require("fs").readFileSync(".local/demo/reconciliation.json", "utf8"));
  console.log(`Reconciliation of ${r.period}: ${r.ok ? "OK, no difference" : r.differences.length + " difference(s)"}`);
  console.log(`  Kafka: ${r.kafka.usage_messages} usage messages, consumer lag ${r.kafka.usage_consumer_lag}, ${r.kafka.dead_lettered} dead-lettered`);
  console.log(`  ClickHouse: ${r.clickhouse.duplicate_events} duplicate events, ${r.clickhouse.rollup_mismatches} rollup mismatches`);
  console.log(`  Invoices: ${r.invoices.count} (${r.invoices.pushed} pushed), total ${r.invoices.total}; Stripe: ${r.stripe.checked} checked`);
  for (const d of r.differences) console.log(`  - ${d.check} ${d.workspace_id ?? ""} ${d.detail}`);
  process.exit(r.ok ? 0 : 1);
'
echo
echo "The local stack keeps running: 'node bin/gpumeter stack status' / 'node bin/gpumeter stack down'."
