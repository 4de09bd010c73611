#!/usr/bin/env bash
# npm run bench:<name> -- [options]: builds, brings the local stack up, runs bench/<name>.ts.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
name="$1"
shift
ensure_node_deps
build
npx tsc -p tsconfig.bench.json
bash stack/stack.sh up >&2
node --max-old-space-size=8192 "dist-bench/bench/$name.js" "$@"
