#!/usr/bin/env bash
# The whole test suite on a fresh machine: dependencies, build, lint, the local stack, then
# unit and integration tests (jest) against the real Kafka, ClickHouse and Stripe emulators.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ensure_node_deps
build
echo "[lint] eslint, module cycles, file sizes, prettier, the generated API client" >&2
npm run --silent lint
npm run --silent format:check >/dev/null
# The typed client's types must be what the current OpenAPI document generates (needs the build).
node scripts/api-client.mjs --check
# In CI, stop what was started even when start-up itself fails half-way.
if [[ "${CI:-}" == "true" ]]; then trap 'bash stack/stack.sh down || true; bash stack/stack.sh down cluster || true' EXIT; fi
bash stack/stack.sh up
# The ClickHouse cluster (ZooKeeper + 3 servers) for test/cluster.int-spec.ts; one for the whole run.
bash stack/stack.sh up cluster

mkdir -p .local
set +e
npx jest --runInBand --json --outputFile=.local/jest-results.json "$@"
status=$?
set -e
# One plain closing line with the counts, read by CI.
node -e '
  const r = require("./.local/jest-results.json");
  console.log(`jest: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped`);
  if (r.numTotalTests === 0) process.exit(1);
' || status=1
exit $status
