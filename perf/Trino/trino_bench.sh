#!/usr/bin/env bash
# Trino front door benchmark: SELECT 1 latency (p50/p95/p99) through Edge's Trino front door vs a direct
# HTTP round trip to a trivial local HTTP endpoint (same client, same machine), and streaming throughput
# of a large result (rows/s, MB/s of page JSON, Edge peak RSS). Edge serves an in-process DuckDB.
# Then the proxy overhead, comparable with other Trino gateways' "added latency": the same SELECT 1, same client,
# interleaved, sent to that Edge directly (the coordinator) and through a second Edge whose cluster is a Trino
# engine pointing at the first (passthrough: client -> Edge A -> coordinator).
# Usage: perf/Trino/trino_bench.sh EDGE_BINARY [SELECT1_COUNT] [STREAM_ROWS]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=${1:?usage: trino_bench.sh EDGE_BINARY [count] [rows]}
COUNT=${2:-5000}
ROWS=${3:-10000000}
WORK=$(mktemp -d)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
TRINO_PORT=$(free_port); PG_PORT=$(free_port); DIRECT_PORT=$(free_port); PROXY_PORT=$(free_port); PROXY_PG_PORT=$(free_port)
cat > "$WORK/edge.yaml" <<YAML
listeners:
  pg: { protocol: postgres, address: 127.0.0.1:$PG_PORT, auth: trust }
  trino: { protocol: trino, address: 127.0.0.1:$TRINO_PORT, auth: trust }
clusters:
  duckdb: { engine: duckdb }
groups:
  local: { clusters: [duckdb] }
routing: { default_group: local }
YAML
cat > "$WORK/proxy.yaml" <<YAML
listeners:
  pg: { protocol: postgres, address: 127.0.0.1:$PROXY_PG_PORT, auth: trust }
  trino: { protocol: trino, address: 127.0.0.1:$PROXY_PORT, auth: trust }
clusters:
  coordinator: { engine: trino, trino: { host: 127.0.0.1, port: $TRINO_PORT, user: bench } }
groups:
  lake: { clusters: [coordinator] }
routing: { default_group: lake }
YAML
"$BIN" run --config "$WORK/edge.yaml" > "$WORK/edge.log" 2>&1 & EDGE_PID=$!
"$BIN" run --config "$WORK/proxy.yaml" > "$WORK/proxy.log" 2>&1 & PROXY_PID=$!
node "$HERE/trivial_http.js" "$DIRECT_PORT" & DIRECT_PID=$!
cleanup() { kill "$EDGE_PID" "$PROXY_PID" "$DIRECT_PID" 2>/dev/null || true; wait "$EDGE_PID" "$PROXY_PID" "$DIRECT_PID" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
for _ in $(seq 100); do grep -q "ready in" "$WORK/edge.log" && grep -q "ready in" "$WORK/proxy.log" && curl -s "http://127.0.0.1:$DIRECT_PORT/" >/dev/null && break; sleep 0.1; done
echo "==> Trino front door: SELECT 1 vs direct HTTP round trip ($COUNT each)"
node "$HERE/trino_bench.js" latency "http://127.0.0.1:$TRINO_PORT" "http://127.0.0.1:$DIRECT_PORT/" "$COUNT"
echo "==> Trino passthrough: SELECT 1 through Edge A (engine trino) vs the coordinator directly ($COUNT each, interleaved)"
node "$HERE/trino_bench.js" passthrough "http://127.0.0.1:$PROXY_PORT" "http://127.0.0.1:$TRINO_PORT" "$COUNT"
echo "==> Trino front door: streaming $ROWS rows"
node "$HERE/trino_bench.js" stream "http://127.0.0.1:$TRINO_PORT" "$ROWS" "$EDGE_PID"
