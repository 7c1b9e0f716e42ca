#!/usr/bin/env bash
# Builds the worker exactly as the container image does (static, cgo, embedded
# specs) and smoke-tests the result. The Dockerfile's build stage runs this script;
# `make test` runs it too, since no Docker engine runs in CI.
#   docker/build.sh [OUT]     (default OUT: bin/worker-static)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bin/worker-static}
version=${VERSION:-$(git describe --always --dirty 2>/dev/null || echo dev)}
mkdir -p "$(dirname "$out")"

# DuckDB is C++ linked through cgo; a fully static binary runs on a distroless
# "static" base image with no libc at all. netgo/osusergo keep DNS and user
# lookups in pure Go (static glibc cannot load its NSS modules). The linker still
# warns about getaddrinfo in DuckDB's bundled HTTP client: that code is never
# called (no httpfs; the lake is read through the Go GCS client).
CGO_ENABLED=1 go build -trimpath -tags netgo,osusergo \
  -ldflags "-s -w -X main.version=${version} -linkmode external -extldflags '-static'" \
  -o "$out" ./worker

# Smoke test: the binary is static, starts, knows its version, carries the
# reference specs, and runs DuckDB (a tiny pipeline on generated data).
if command -v ldd >/dev/null 2>&1 && ldd "$out" 2>&1 | grep -q '=>'; then
  echo "build.sh: $out is dynamically linked" >&2; exit 1
fi
"$out" --version
"$out" specs lint
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$out" --lake "$tmp/lake" --log-format json demo --days 1 --scale 0.0005 >"$tmp/demo.out" 2>"$tmp/demo.err" || {
  echo "build.sh: demo failed with the static binary:" >&2; tail -5 "$tmp/demo.err" >&2; exit 1; }
grep -q "0 missing, 0 unexpected" "$tmp/demo.out"
echo "build.sh: $out ok ($(du -h "$out" | cut -f1), static, demo passed)"
