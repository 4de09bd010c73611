#!/usr/bin/env bash
# npm run bench:agent -- [--containers N] [--seconds S]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_node_deps
build
npx tsc -p tsconfig.bench.json
bash stack/stack.sh up >&2
node dist-bench/bench/agent.js "$@"
