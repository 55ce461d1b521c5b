#!/usr/bin/env bash
# ./build.sh bench [--quick] [--micro-only|--load-only]
# 1. BenchmarkDotNet micro benchmarks (PG codec, Arrow-to-PG encoder, SQL lexer) with [MemoryDiagnoser].
# 2. pgbench through the AOT binary to embedded DuckDB in simple/extended/prepared modes, and the same
#    script against a local PostgreSQL 15 directly and through PgBouncer, for reference, in the same run.
# Prints one table; raw outputs land in artifacts/bench/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT="$ROOT/artifacts/bench"; mkdir -p "$OUT"
QUICK=0; MICRO=1; LOAD=1
for a in "$@"; do case $a in --quick) QUICK=1 ;; --micro-only) LOAD=0 ;; --load-only) MICRO=0 ;; esac; done
DURATION=$([[ $QUICK == 1 ]] && echo 5 || echo 15)
CLIENTS=8

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

if [[ $MICRO == 1 ]]; then
  echo "==> micro benchmarks (BenchmarkDotNet)"
  JOB=$([[ $QUICK == 1 ]] && echo "--job short" || echo "")
  dotnet run -c Release --project perf/Micro/LakeOps.Edge.Benchmarks -- --filter '*' $JOB --exporters markdown \
    --artifacts "$OUT/micro" > "$OUT/micro.log" 2>&1 || { tail -40 "$OUT/micro.log"; exit 1; }
  for f in "$OUT"/micro/results/*-report-github.md; do echo; echo "### $(basename "$f" -report-github.md)"; grep -E '^\|' "$f"; done
fi

if [[ $LOAD == 1 ]]; then
  ./build.sh publish >/dev/null
  BIN="$ROOT/artifacts/publish/linux-x64/lakeops-edge"
  WORK=$(mktemp -d); trap 'kill $(jobs -p) 2>/dev/null || true; su postgres -c "/usr/lib/postgresql/15/bin/pg_ctl -D $WORK/pg -m immediate stop" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT

  EDGE_PORT=$(free_port)
  sed "s/127.0.0.1:15432/127.0.0.1:$EDGE_PORT/" configs/edge.yaml > "$WORK/edge.yaml"
  "$BIN" run --config "$WORK/edge.yaml" 2>"$WORK/edge.log" &
  EDGE_PID=$!
  for _ in $(seq 100); do grep -q "ready in" "$WORK/edge.log" && break; sleep 0.1; done
  echo "==> Edge start-to-listening: $(grep -o 'ready in [0-9]* ms' "$WORK/edge.log")"
  echo "==> Edge idle RSS: $(awk '/VmRSS/{print $2" "$3}' /proc/$EDGE_PID/status)"

  # Reference PostgreSQL 15 and PgBouncer in the same run (same script, trivial query, so ratios compare gateway cost).
  PG_PORT=$(free_port); BOUNCER_PORT=$(free_port)
  mkdir -p "$WORK/pg"; chown postgres "$WORK" "$WORK/pg"
  su postgres -c "/usr/lib/postgresql/15/bin/initdb -D $WORK/pg -A trust -U edge" >/dev/null
  su postgres -c "/usr/lib/postgresql/15/bin/pg_ctl -D $WORK/pg -o '-p $PG_PORT -k $WORK -c listen_addresses=127.0.0.1 -c max_connections=100' -l $WORK/pg.log -w start" >/dev/null
  su postgres -c "psql -h 127.0.0.1 -p $PG_PORT -U edge -d postgres -c 'create database local'" >/dev/null
  cat > "$WORK/pgbouncer.ini" <<INI
[databases]
local = host=127.0.0.1 port=$PG_PORT dbname=local user=edge
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BOUNCER_PORT
auth_type = any
pool_mode = session
max_client_conn = 100
default_pool_size = 20
logfile = $WORK/pgbouncer.log
pidfile = $WORK/pgbouncer.pid
unix_socket_dir =
INI
  chown postgres "$WORK/pgbouncer.ini"
  su postgres -c "pgbouncer -d $WORK/pgbouncer.ini"

  run_pgbench() { # script label port mode
    local tps lat failed log="$OUT/pgbench-$1-${2// /_}-$4.log"
    pgbench -n -M "$4" -f "$ROOT/perf/Load/$1.sql" -c $CLIENTS -j 2 -T "$DURATION" -h 127.0.0.1 -p "$3" -U edge local > "$log" 2>&1 || { echo "pgbench $1 $2 $4 failed"; tail "$log"; return 1; }
    tps=$(grep -oP 'tps = \K[0-9.]+' "$log" | head -1)
    lat=$(grep -oP 'latency average = \K[0-9.]+' "$log")
    failed=$(grep -oP 'number of failed transactions: \K[0-9]+' "$log" || echo 0)
    printf '| %-6s | %-28s | %-8s | %10s | %10s | %6s |\n' "$1" "$2" "$4" "$tps" "$lat" "$failed"
  }
  echo
  echo "pgbench -c $CLIENTS -j 2 -T $DURATION. show.sql (SHOW application_name) is answered by the front door"
  echo "itself (Edge) or by PostgreSQL: it measures the protocol path. select.sql runs on the engine:"
  echo "PostgreSQL 15 for the first two rows, embedded DuckDB for Edge (see DuckDbEngineBenchmarks for DuckDB's own time)."
  echo "| script | target                       | mode     |        tps | lat ms avg | failed |"
  echo "|--------|------------------------------|----------|------------|------------|--------|"
  for script in show select; do
    for mode in simple extended prepared; do
      run_pgbench $script "PostgreSQL 15 direct" "$PG_PORT" "$mode"
      run_pgbench $script "PgBouncer -> PostgreSQL" "$BOUNCER_PORT" "$mode"
      run_pgbench $script "Edge" "$EDGE_PORT" "$mode"
    done
  done
  echo "==> Edge RSS after load: $(awk '/VmRSS/{print $2" "$3}' /proc/$EDGE_PID/status)"
  kill -TERM $EDGE_PID; wait $EDGE_PID || true
  kill "$(cat "$WORK/pgbouncer.pid")" 2>/dev/null || true
fi
