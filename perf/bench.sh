#!/usr/bin/env bash
# ./build.sh bench [--quick] [--micro-only|--load-only]
# 1. BenchmarkDotNet micro benchmarks (PG codec, Arrow-to-PG encoder, SQL lexer) with [MemoryDiagnoser].
# 2. Protocol path: pgbench show.sql / select.sql (8 clients) against PostgreSQL 15 directly, through
#    PgBouncer (session pooling) and through Edge to embedded DuckDB, in simple/extended/prepared modes.
# 3. Gateway cost: pgbench -S (scale 10) at 1 and 16 clients against PostgreSQL directly, through PgBouncer
#    (transaction pooling) and through Edge's pooled PostgreSQL engine; median of several runs; latency,
#    TPS, Edge/direct, Edge/PgBouncer and the latency each gateway adds per query.
# 4. Memory per idle client connection: 5,000 idle connections to a fresh Edge (and to PgBouncer).
# 5. Trino front door: SELECT 1 p50/p95/p99 against a direct HTTP round trip, and streaming throughput
#    of a large result with Edge's peak RSS (perf/Trino/trino_bench.sh; needs node).
# Everything runs in one go against its own PostgreSQL (tools/test-servers.sh), PgBouncer and Edge, all
# on this machine, and is stopped afterwards. Raw outputs land in artifacts/bench/. See docs/benchmarks.md.
# EDGE_BINARY=path uses that binary instead of publishing one; BENCH_DURATION (s per run), BENCH_REPEATS,
# BENCH_IDLE_COUNT and BENCH_IDLE_WAIT override the defaults (15 s, 3 runs, 5000 connections, 20 s idle; --quick: 5 s, 1 run).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT="$ROOT/artifacts/bench"; mkdir -p "$OUT"
QUICK=0; MICRO=1; LOAD=1
for a in "$@"; do case $a in --quick) QUICK=1 ;; --micro-only) LOAD=0 ;; --load-only) MICRO=0 ;; *) echo "unknown option $a" >&2; exit 2 ;; esac; done
DURATION=${BENCH_DURATION:-$([[ $QUICK == 1 ]] && echo 5 || echo 15)}   # seconds per pgbench run
REPEATS=${BENCH_REPEATS:-$([[ $QUICK == 1 ]] && echo 1 || echo 3)}     # runs per gateway-cost cell; the median is reported
CLIENTS=8                                             # protocol-path part
POOL=20                                               # server connections: Edge pool max_size = PgBouncer default_pool_size
SCALE=10
IDLE_COUNT=${BENCH_IDLE_COUNT:-5000}
IDLE_WAIT=${BENCH_IDLE_WAIT:-20}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
as_pg() { if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }

if [[ $MICRO == 1 ]]; then
  echo "==> micro benchmarks (BenchmarkDotNet)"
  JOB=$([[ $QUICK == 1 ]] && echo "--job short" || echo "")
  dotnet run -c Release --project perf/Micro/LakeOps.Edge.Benchmarks -- --filter '*' $JOB --exporters markdown \
    --artifacts "$OUT/micro" > "$OUT/micro.log" 2>&1 || { tail -40 "$OUT/micro.log"; exit 1; }
  for f in "$OUT"/micro/results/*-report-github.md; do echo; echo "### $(basename "$f" -report-github.md)"; grep -E '^\|' "$f"; done
fi

[[ $LOAD == 1 ]] || exit 0

if [[ -n ${EDGE_BINARY:-} ]]; then BIN=$EDGE_BINARY; else ./build.sh publish >/dev/null; BIN="$ROOT/artifacts/publish/linux-x64/lakeops-edge"; fi
# 5,000 idle sockets each in the tool and in Edge (or PgBouncer): raise our limit, children inherit it.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if (($(ulimit -n) < IDLE_COUNT + 200)); then IDLE_COUNT=$(($(ulimit -n) - 200)); echo "==> file descriptor limit $(ulimit -n): $IDLE_COUNT idle connections"; fi

WORK=$(mktemp -d /tmp/edge-bench.XXXXXX); chmod 755 "$WORK"
PIDS=()
cleanup() {
  local p; for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  [[ -f $WORK/bouncer/pgbouncer.pid ]] && kill "$(cat "$WORK/bouncer/pgbouncer.pid")" 2>/dev/null || true
  tools/test-servers.sh stop "$WORK/servers" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "==> PostgreSQL 15 (tools/test-servers.sh), pgbench -i -s $SCALE"
eval "$(tools/test-servers.sh start "$WORK/servers" pg)"
export PGPASSWORD=$EDGE_TEST_PG_PASSWORD PGSSLMODE=disable
PG_PORT=$EDGE_TEST_PG_PORT
psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -c "CREATE DATABASE bench" >/dev/null
timeout 600 pgbench -i -s $SCALE -q -h 127.0.0.1 -p "$PG_PORT" -U postgres bench > "$OUT/pgbench-init.log" 2>&1 || { tail "$OUT/pgbench-init.log"; exit 1; }

# PgBouncer: 'bench' in transaction pooling (the comparison), 'bench_session' in session pooling (the
# protocol-path part needs named prepared statements, which PgBouncer < 1.21 cannot carry across transactions).
BOUNCER_PORT=$(free_port)
BOUNCER_VERSION=$(pgbouncer --version | awk 'NR==1{print $2}')
BOUNCER_PREPARED=0
[[ $(printf '%s\n' 1.21 "$BOUNCER_VERSION" | sort -V | head -1) == 1.21 ]] && BOUNCER_PREPARED=1
mkdir -p "$WORK/bouncer"
[[ $(id -u) -eq 0 ]] && chown postgres "$WORK/bouncer"
cat > "$WORK/bouncer/pgbouncer.ini" <<INI
[databases]
bench = host=127.0.0.1 port=$PG_PORT dbname=bench user=postgres password=$PGPASSWORD pool_mode=transaction
bench_session = host=127.0.0.1 port=$PG_PORT dbname=bench user=postgres password=$PGPASSWORD pool_mode=session
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BOUNCER_PORT
auth_type = any
pool_mode = transaction
default_pool_size = $POOL
max_client_conn = $((IDLE_COUNT + 200))
logfile = $WORK/bouncer/pgbouncer.log
pidfile = $WORK/bouncer/pgbouncer.pid
unix_socket_dir =
$( ((BOUNCER_PREPARED)) && echo "max_prepared_statements = 200")
INI
chmod 600 "$WORK/bouncer/pgbouncer.ini"
[[ $(id -u) -eq 0 ]] && chown postgres "$WORK/bouncer/pgbouncer.ini"
# PgBouncer refuses to run as root; runuser resets the descriptor limit, so raise it again inside.
as_pg bash -c "ulimit -n $(ulimit -n) && exec pgbouncer -d '$WORK/bouncer/pgbouncer.ini'"

# Edge: the PostgreSQL front door; database 'local' -> embedded DuckDB, 'bench' -> pooled PostgreSQL.
edge_config() { # port file
  cat > "$2" <<YAML
server: { shutdown_timeout: 5s }
listeners:
  postgres: { protocol: postgres, address: "127.0.0.1:$1", auth: trust, limits: { max_connections: $((IDLE_COUNT + 200)) } }
clusters:
  duckdb: { engine: duckdb, duckdb: { path: ":memory:" }, limits: { max_sessions: $((IDLE_COUNT + 200)) } }
  pg:
    engine: postgres
    postgres: { host: 127.0.0.1, port: $PG_PORT, user: postgres, password: "\${BENCH_PG_PASSWORD}", database: bench, tls: disable }
    pool: { min_size: 0, max_size: $POOL }
groups:
  local: { clusters: [duckdb] }
  bench: { clusters: [pg] }
routing: { default_group: local }
YAML
}
start_edge() { # port config log -> EDGE_PID
  BENCH_PG_PASSWORD=$PGPASSWORD "$BIN" run --config "$2" 2>"$3" &
  EDGE_PID=$!; PIDS+=("$EDGE_PID")
  local _; for _ in $(seq 100); do grep -q "ready in" "$3" && return 0; kill -0 "$EDGE_PID" 2>/dev/null || break; sleep 0.1; done
  echo "Edge did not start:"; tail -20 "$3"; exit 1
}
stop_edge() { # pid
  kill -TERM "$1" 2>/dev/null || true
  local _; for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true
  local p kept=(); for p in "${PIDS[@]}"; do [[ $p == "$1" ]] || kept+=("$p"); done; PIDS=("${kept[@]}")
}
EDGE_PORT=$(free_port)
edge_config "$EDGE_PORT" "$WORK/edge.yaml"
start_edge "$EDGE_PORT" "$WORK/edge.yaml" "$WORK/edge.log"
MAIN_EDGE=$EDGE_PID
echo "==> Edge start-to-listening: $(grep -o 'ready in [0-9]* ms' "$WORK/edge.log")"
echo "==> Edge idle RSS: $(awk '/VmRSS/{print $2" "$3}' /proc/$MAIN_EDGE/status)"
echo "==> PgBouncer $BOUNCER_VERSION (prepared statements in transaction mode: $( ((BOUNCER_PREPARED)) && echo yes || echo no))"

# ---- protocol path ------------------------------------------------------------------------------
run_pgbench() { # script label port db mode
  local tps lat failed log="$OUT/pgbench-$1-${2// /_}-$5.log"
  if ! timeout -k 5 $((DURATION + 30)) pgbench -n -M "$5" -f "$ROOT/perf/Load/$1.sql" -c $CLIENTS -j 2 -T "$DURATION" -h 127.0.0.1 -p "$3" -U postgres "$4" > "$log" 2>&1; then
    printf '| %-6s | %-28s | %-8s | %10s | %10s | %6s |\n' "$1" "$2" "$5" failed "" ""; return 0
  fi
  tps=$(grep -oP 'tps = \K[0-9.]+' "$log" | head -1)
  lat=$(grep -oP 'latency average = \K[0-9.]+' "$log")
  failed=$(grep -oP 'number of failed transactions: \K[0-9]+' "$log" || echo 0)
  printf '| %-6s | %-28s | %-8s | %10.0f | %10s | %6s |\n' "$1" "$2" "$5" "$tps" "$lat" "$failed"
}
echo
echo "Protocol path: pgbench -c $CLIENTS -j 2 -T $DURATION. show.sql (SHOW application_name) is answered by the front"
echo "door itself (Edge) or by PostgreSQL: it measures the protocol path. select.sql runs on the engine:"
echo "PostgreSQL 15 for the first two rows, embedded DuckDB for Edge (see DuckDbEngineBenchmarks for DuckDB's own time)."
echo "| script | target                       | mode     |        tps | lat ms avg | failed |"
echo "|--------|------------------------------|----------|------------|------------|--------|"
SCRIPTS=$([[ $QUICK == 1 ]] && echo show || echo "show select")
for script in $SCRIPTS; do
  for mode in simple extended prepared; do
    run_pgbench $script "PostgreSQL 15 direct" "$PG_PORT" bench "$mode"
    run_pgbench $script "PgBouncer (session) -> PG" "$BOUNCER_PORT" bench_session "$mode"
    run_pgbench $script "Edge -> DuckDB" "$EDGE_PORT" local "$mode"
  done
done

# ---- gateway cost: pgbench -S ---------------------------------------------------------------------
# One pgbench -S run; prints "tps latency_ms" or "failed".
select_only() { # target port mode clients rep
  local log="$OUT/select-only-$1-$3-c$4-r$5.log" jobs=$(($4 > 1 ? 2 : 1))
  if timeout -k 5 $((DURATION + 30)) pgbench -n -S -M "$3" -c "$4" -j $jobs -T "$DURATION" -h 127.0.0.1 -p "$2" -U postgres bench > "$log" 2>&1 \
    && grep -q "number of failed transactions: 0 (" "$log"; then
    echo "$(grep -oP 'tps = \K[0-9.]+' "$log" | head -1) $(grep -oP 'latency average = \K[0-9.]+' "$log")"
  else
    echo failed
    echo "  $(basename "$log"): $(grep -m1 -E "error|abort" "$log" || tail -1 "$log")" >> "$WORK/failures"
  fi
}
median() { tr ' ' '\n' | awk 'NF' | sort -g | awk '{v[NR]=$1} END {if (NR) print v[int((NR + 1) / 2)]}'; }

# Warm up: pools open their server connections, PostgreSQL caches the tables.
for port in "$PG_PORT" "$BOUNCER_PORT" "$EDGE_PORT"; do
  timeout -k 5 30 pgbench -n -S -M extended -c 16 -j 2 -T 2 -h 127.0.0.1 -p "$port" -U postgres bench >/dev/null 2>&1 || true
done

echo
echo "Gateway cost: pgbench -S, scale $SCALE, -T $DURATION, median of $REPEATS run(s). PgBouncer: transaction pooling;"
echo "Edge: PostgreSQL engine, transaction pooling. Both hold up to $POOL server connections. 'added us' is the"
echo "average latency minus the direct latency: what the gateway adds to each query."
echo "| mode     | clients | target      | lat ms avg |        TPS | x direct | Edge/PgBouncer | added us |"
echo "|----------|---------|-------------|------------|------------|----------|----------------|----------|"
declare -A TPS LAT
for mode in simple extended prepared; do
  for clients in 1 16; do
    declare -A tps_runs=() lat_runs=()
    for rep in $(seq "$REPEATS"); do
      # Interleaved, so drift on the machine hits every target alike.
      for target in direct pgbouncer edge; do
        case $target in direct) port=$PG_PORT ;; pgbouncer) port=$BOUNCER_PORT ;; edge) port=$EDGE_PORT ;; esac
        [[ $target == pgbouncer && $mode == prepared && $BOUNCER_PREPARED == 0 ]] && continue
        read -r t l <<<"$(select_only $target "$port" $mode $clients "$rep")"
        [[ $t == failed ]] && continue
        tps_runs[$target]+="$t "; lat_runs[$target]+="$l "
      done
    done
    for target in direct pgbouncer edge; do
      TPS[$target]=$(median <<<"${tps_runs[$target]:-}"); LAT[$target]=$(median <<<"${lat_runs[$target]:-}")
    done
    for target in direct pgbouncer edge; do
      tps=${TPS[$target]} lat=${LAT[$target]} ratio="" vs_bouncer="" added=""
      if [[ -z $tps ]]; then
        note=$([[ $target == pgbouncer && $mode == prepared && $BOUNCER_PREPARED == 0 ]] && echo "n/a (<1.21)" || echo failed)
        printf '| %-8s | %7s | %-11s | %10s | %10s | %8s | %14s | %8s |\n' $mode $clients $target "" "$note" "" "" ""
        continue
      fi
      if [[ -n ${TPS[direct]} ]]; then
        ratio=$(awk -v a="$tps" -v b="${TPS[direct]}" 'BEGIN{printf "%.2f", a / b}')
        if [[ $target != direct ]]; then added=$(awk -v a="$lat" -v b="${LAT[direct]}" 'BEGIN{printf "%.1f", (a - b) * 1000}'); fi
      fi
      if [[ $target == edge && -n ${TPS[pgbouncer]} ]]; then vs_bouncer=$(awk -v a="$tps" -v b="${TPS[pgbouncer]}" 'BEGIN{printf "%.2f", a / b}'); fi
      printf '| %-8s | %7s | %-11s | %10s | %10.0f | %8s | %14s | %8s |\n' $mode $clients $target "$lat" "$tps" "$ratio" "$vs_bouncer" "$added"
    done
    unset tps_runs lat_runs
  done
done
# CPU time the gateway process itself spends per transaction: insensitive to what else runs on the
# machine, so it compares Edge and PgBouncer even when TPS figures are noisy.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
cpu_per_tx() { # port pid mode -> microseconds
  local before after tx=$((16 * 2000))
  before=$(cpu_ticks "$2")
  timeout -k 5 120 pgbench -n -S -M "$3" -c 16 -j 2 -t 2000 -h 127.0.0.1 -p "$1" -U postgres bench > /dev/null 2>&1 || { echo failed; return; }
  after=$(cpu_ticks "$2")
  awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v n=$tx 'BEGIN{printf "%.1f", t / hz / n * 1e6}'
}
echo
echo "Gateway CPU per transaction (pgbench -S -c 16 -t 2000, CPU time of the gateway process / transactions, median of $REPEATS):"
echo "| mode     | PgBouncer us | Edge us | Edge/PgBouncer |"
echo "|----------|--------------|---------|----------------|"
BOUNCER_PID=$(cat "$WORK/bouncer/pgbouncer.pid")
for mode in simple extended; do
  b_runs="" e_runs=""
  for rep in $(seq "$REPEATS"); do
    b_runs+="$(cpu_per_tx "$BOUNCER_PORT" "$BOUNCER_PID" $mode) "
    e_runs+="$(cpu_per_tx "$EDGE_PORT" "$MAIN_EDGE" $mode) "
  done
  b=$(median <<<"$b_runs") e=$(median <<<"$e_runs")
  printf '| %-8s | %12s | %7s | %14s |\n' $mode "$b" "$e" "$(awk -v a="$e" -v b="$b" 'BEGIN{printf "%.2f", a / b}')"
done

[[ -s $WORK/failures ]] && { echo "Failed runs (first error; full output in artifacts/bench/):"; cat "$WORK/failures"; }
echo "==> Edge RSS after load: $(awk '/VmRSS/{print $2" "$3}' /proc/$MAIN_EDGE/status)"
stop_edge "$MAIN_EDGE"

# ---- memory per idle client connection --------------------------------------------------------------
echo
echo "Memory per idle client connection: $IDLE_COUNT connections complete the startup handshake and stay idle;"
echo "(RSS with them - RSS before) / $IDLE_COUNT, each Edge freshly started, measured right after the login burst"
echo "and again after ${IDLE_WAIT}s idle (Edge gives the burst's memory back: server.memory_trim). Target for Edge: 4096 bytes or less."
idle() { # label port pid database
  local log="$OUT/idle-${1// /_}.log"
  if python3 perf/IdleConnections/idle_connections.py --port "$2" --pid "$3" --database "$4" --user postgres --count "$IDLE_COUNT" --idle-wait "$IDLE_WAIT" > "$log" 2>&1; then
    printf '| %-34s | after the burst %s | after %ss idle %s\n' "$1" "$(grep -oP 'bytes per idle connection: \K[0-9]+' "$log" | head -1) B" "$IDLE_WAIT" "$(grep -oP 'after [0-9.]+ s more idle: .*bytes per idle connection: \K[0-9]+' "$log") B"
  else
    printf '| %-34s | failed: %s\n' "$1" "$(tail -1 "$log")"
  fi
}
for db in local bench; do
  port=$(free_port)
  edge_config "$port" "$WORK/edge-idle.yaml"
  start_edge "$port" "$WORK/edge-idle.yaml" "$WORK/edge-idle-$db.log"
  idle "Edge, database $db ($([[ $db == local ]] && echo DuckDB || echo PG pool))" "$port" "$EDGE_PID" $db
  stop_edge "$EDGE_PID"
done
idle "PgBouncer (transaction pooling)" "$BOUNCER_PORT" "$(cat "$WORK/bouncer/pgbouncer.pid")" bench

# ---- Trino front door ----------------------------------------------------------------------------------
echo
if command -v node >/dev/null; then
  perf/Trino/trino_bench.sh "$BIN" "$([[ $QUICK == 1 ]] && echo 1000 || echo 5000)" "$([[ $QUICK == 1 ]] && echo 1000000 || echo 10000000)" 2>&1 | tee "$OUT/trino.log"
else
  echo "==> Trino front door benchmark skipped: node is not installed"
fi
