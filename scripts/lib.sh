# Shared by the scripts: install Node dependencies when missing or stale, then build.
ensure_node_deps() {
  command -v node >/dev/null 2>&1 || { echo "node (>= 20.19) is required" >&2; exit 1; }
  if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
    echo "[deps] npm ci" >&2
    npm ci --no-audit --no-fund >&2
  fi
}
build() {
  echo "[build] tsc" >&2
  npm run --silent build >&2
}
