#!/usr/bin/env bash
# npm run bench:ingest -- [--events N] [--http-events N] [--workspaces N]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_node_deps
build
npx tsc -p tsconfig.bench.json
bash stack/stack.sh up >&2
node --max-old-space-size=8192 dist-bench/bench/ingest.js "$@"
