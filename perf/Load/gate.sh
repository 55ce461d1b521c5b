#!/usr/bin/env bash
# Load gate (part of ./build.sh test, under 60 s): real load through the Edge binary must produce 0 errors.
#   pgbench -S, 100 clients, through Edge to PostgreSQL in simple, extended and prepared modes
#   pgbench tpcb-like (transactions), 20 clients, through Edge to PostgreSQL
#   sysbench oltp_read_only, 16 threads, through Edge's MySQL front door to MariaDB, text and prepared
# Data is loaded directly on the servers (pgbench -i, sysbench prepare) into databases edge_gate and
# sbtest, which are dropped again at the end.
#
# Needs EDGE_TEST_PG_* and EDGE_TEST_MYSQL_* (see tools/test-servers.sh; run it standalone as
#   eval "$(tools/test-servers.sh start /tmp/servers)"; perf/Load/gate.sh; tools/test-servers.sh stop /tmp/servers
# ) and EDGE_BINARY (default artifacts/publish/linux-x64/lakeops-edge).
# Prints one line per check and ends with "Load gate: N passed, N failed"; exit code 1 if any failed.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
BIN=${EDGE_BINARY:-$ROOT/artifacts/publish/linux-x64/lakeops-edge}
DURATION=${GATE_DURATION:-5}
PG_DB=edge_gate MY_DB=sbtest

for v in EDGE_TEST_PG_HOST EDGE_TEST_PG_PORT EDGE_TEST_PG_USER EDGE_TEST_MYSQL_HOST EDGE_TEST_MYSQL_PORT EDGE_TEST_MYSQL_USER; do
  [[ -n ${!v:-} ]] || { echo "gate: $v is not set (start servers with tools/test-servers.sh)" >&2; exit 2; }
done
[[ -x $BIN ]] || { echo "gate: no Edge binary at $BIN (set EDGE_BINARY)" >&2; exit 2; }
for tool in pgbench psql sysbench mariadb; do command -v $tool >/dev/null || { echo "gate: $tool is not installed" >&2; exit 2; }; done

PASSED=0; FAILED=0
WORK=$(mktemp -d)
EDGE_PID=""
cleanup() {
  if [[ -n $EDGE_PID ]]; then
    kill -TERM "$EDGE_PID" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$EDGE_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$EDGE_PID" 2>/dev/null || true; wait "$EDGE_PID" 2>/dev/null || true
  fi
  pg_direct -q -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 || true
  my_direct -e "DROP DATABASE IF EXISTS $MY_DB" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
export PGPASSWORD=${EDGE_TEST_PG_PASSWORD:-} PGSSLMODE=disable PGCONNECT_TIMEOUT=10
pg_direct() { psql -X -v ON_ERROR_STOP=1 -h "$EDGE_TEST_PG_HOST" -p "$EDGE_TEST_PG_PORT" -U "$EDGE_TEST_PG_USER" -d "${EDGE_TEST_PG_DATABASE:-postgres}" "$@"; }
my_direct() { mariadb --no-defaults --skip-ssl -h "$EDGE_TEST_MYSQL_HOST" -P "$EDGE_TEST_MYSQL_PORT" -u "$EDGE_TEST_MYSQL_USER" --password="${EDGE_TEST_MYSQL_PASSWORD:-}" "$@"; }
SYSBENCH_DATA=(oltp_read_only --tables=2 --table-size=10000 --mysql-db=$MY_DB --mysql-ignore-errors=none --db-driver=mysql)

# One check: runs the command (bounded), passes when it exits 0 and its output shows no errors.
check() { # name, kind (pgbench|sysbench), command...
  local name=$1 kind=$2 log="$WORK/check-$((PASSED + FAILED)).log" ok=1 line rc=0; shift 2
  if [[ -n ${SKIP[$kind]:-} ]]; then
    FAILED=$((FAILED + 1)); printf 'gate: %-44s FAILED  (not run: %s)\n' "$name" "${SKIP[$kind]}"; return 0
  fi
  timeout -k 5 $((DURATION + 25)) "$@" >"$log" 2>&1 || rc=$?
  ((rc == 0)) || ok=0
  if [[ $kind == pgbench ]]; then
    grep -q "number of failed transactions: 0 (" "$log" || ok=0
    grep -qE "number of transactions actually processed: [1-9]" "$log" || ok=0
    grep -qiE "aborted|error" "$log" && ok=0
    line="$(grep -oE "tps = [0-9.]+" "$log" | head -1 || true), $(grep -oE "latency average = [0-9.]+ ms" "$log" || true)"
  else
    grep -qE "ignored errors: +0 " "$log" || ok=0
    grep -qE "reconnects: +0 " "$log" || ok=0
    grep -qE "transactions: +[1-9]" "$log" || ok=0
    grep -qE "FATAL|ALERT" "$log" && ok=0
    line="$(grep -oE "transactions: +[0-9]+ +\([0-9.]+ per sec\.\)" "$log" | tr -s ' ' || true), $(grep -oE "queries: +[0-9]+ +\([0-9.]+ per sec\.\)" "$log" | tr -s ' ' || true)"
  fi
  ((rc == 124)) && line+=" (timed out after $((DURATION + 25)) s)"
  kill -0 "$EDGE_PID" 2>/dev/null || { ok=0; line+=" (Edge exited)"; }
  if ((ok)); then
    PASSED=$((PASSED + 1)); printf 'gate: %-44s ok      %s\n' "$name" "$line"
  else
    FAILED=$((FAILED + 1)); printf 'gate: %-44s FAILED  %s\n' "$name" "$line"
    { grep -iE "error|fatal|abort|failed" "$log" || true; } | sort | uniq -c | sort -rn | head -8 | sed 's/^/      /'
    tail -5 "$log" | sed 's/^/      | /'
  fi
}

# Data, directly on the servers.
SECONDS=0
pg_direct -q -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" -c "CREATE DATABASE $PG_DB" >/dev/null
pgbench -i -s 1 -q -h "$EDGE_TEST_PG_HOST" -p "$EDGE_TEST_PG_PORT" -U "$EDGE_TEST_PG_USER" $PG_DB >"$WORK/pgbench-init.log" 2>&1 \
  || { cat "$WORK/pgbench-init.log" >&2; exit 1; }
my_direct -e "DROP DATABASE IF EXISTS $MY_DB; CREATE DATABASE $MY_DB" 2>/dev/null
sysbench "${SYSBENCH_DATA[@]}" --mysql-host="$EDGE_TEST_MYSQL_HOST" --mysql-port="$EDGE_TEST_MYSQL_PORT" \
  --mysql-user="$EDGE_TEST_MYSQL_USER" --mysql-password="${EDGE_TEST_MYSQL_PASSWORD:-}" prepare >"$WORK/sysbench-prepare.log" 2>&1 \
  || { cat "$WORK/sysbench-prepare.log" >&2; exit 1; }
echo "gate: data loaded in ${SECONDS}s (pgbench scale 1, sysbench 2 x 10000 rows)"

# Edge: a PostgreSQL front door to a pooled PostgreSQL cluster, a MySQL front door to MariaDB. The group
# names equal the servers' database names, so the client's database name is right on both sides.
PG_PORT=$(free_port); MY_PORT=$(free_port)
cat > "$WORK/edge.yaml" <<YAML
server: { shutdown_timeout: 5s }
listeners:
  postgres: { protocol: postgres, address: "127.0.0.1:$PG_PORT", auth: trust, limits: { max_connections: 500 } }
  mysql: { protocol: mysql, address: "127.0.0.1:$MY_PORT", auth: trust, limits: { max_connections: 500 } }
clusters:
  pg:
    engine: postgres
    postgres: { host: "$EDGE_TEST_PG_HOST", port: $EDGE_TEST_PG_PORT, user: "$EDGE_TEST_PG_USER", password: "\${GATE_PG_PASSWORD:-}", database: $PG_DB, tls: disable }
    pool: { min_size: 0, max_size: 40, connect_timeout: 10s }
  maria:
    engine: mysql
    mysql: { host: "$EDGE_TEST_MYSQL_HOST", port: $EDGE_TEST_MYSQL_PORT, user: "$EDGE_TEST_MYSQL_USER", password: "\${GATE_MYSQL_PASSWORD:-}", database: $MY_DB }
    pool: { min_size: 0, max_size: 32, connect_timeout: 10s }
groups:
  $PG_DB: { clusters: [pg], statement_timeout: 0 }
  $MY_DB: { clusters: [maria] }
routing:
  default_group: $PG_DB
YAML
# Passwords travel by environment, not in the file.
GATE_PG_PASSWORD=${EDGE_TEST_PG_PASSWORD:-} GATE_MYSQL_PASSWORD=${EDGE_TEST_MYSQL_PASSWORD:-} \
  "$BIN" run --config "$WORK/edge.yaml" 2>"$WORK/edge.log" &
EDGE_PID=$!
for _ in $(seq 100); do grep -q "ready in" "$WORK/edge.log" && break; kill -0 $EDGE_PID 2>/dev/null || break; sleep 0.1; done
if ! grep -q "ready in" "$WORK/edge.log"; then
  echo "gate: Edge did not start:" >&2; tail -20 "$WORK/edge.log" >&2
  echo "Load gate: 0 passed, 1 failed"; exit 1
fi

# Through Edge. PGPASSWORD does not matter (trust); the client user is any name.
EDGE_PG=(-h 127.0.0.1 -p "$PG_PORT" -U edge)
# One query per front door first: if it does not answer, its load checks fail at once instead of timing out.
declare -A SKIP=()
if ! timeout -k 2 10 psql -X -A -t "${EDGE_PG[@]}" -d $PG_DB -c "SELECT count(*) FROM pgbench_branches" >"$WORK/probe-pg.log" 2>&1; then
  SKIP[pgbench]="SELECT through the PostgreSQL front door failed: $(tr '\n' ' ' < "$WORK/probe-pg.log" | cut -c1-160)"
  [[ -s $WORK/probe-pg.log ]] || SKIP[pgbench]+="no answer in 10 s"
fi
if ! timeout -k 2 10 mariadb --no-defaults --skip-ssl -h 127.0.0.1 -P "$MY_PORT" -u edge $MY_DB -e "SELECT count(*) FROM sbtest1" >"$WORK/probe-my.log" 2>&1; then
  SKIP[sysbench]="SELECT through the MySQL front door failed: $(tr '\n' ' ' < "$WORK/probe-my.log" | cut -c1-160)"
  [[ -s $WORK/probe-my.log ]] || SKIP[sysbench]+="no answer in 10 s"
fi
for mode in simple extended prepared; do
  check "pgbench -S -c 100 -M $mode" pgbench pgbench -n -S -M $mode -c 100 -j 2 -T "$DURATION" "${EDGE_PG[@]}" $PG_DB
done
check "pgbench tpcb-like -c 20" pgbench pgbench -n -b tpcb-like -c 20 -j 2 -T "$DURATION" "${EDGE_PG[@]}" $PG_DB
for ps in disable auto; do
  check "sysbench oltp_read_only --db-ps-mode=$ps" sysbench sysbench "${SYSBENCH_DATA[@]}" --db-ps-mode=$ps \
    --mysql-host=127.0.0.1 --mysql-port="$MY_PORT" --mysql-user=edge --mysql-password= --mysql-ssl=off \
    --threads=16 --time="$DURATION" --report-interval=0 run
done

if ((FAILED)); then
  echo "gate: Edge log (warnings and errors, last 15):"
  { grep -E " (warn|fail|crit) " "$WORK/edge.log" || tail -5 "$WORK/edge.log"; } | tail -15 | sed 's/^/      | /'
fi
echo "gate: done in ${SECONDS}s"
echo "Load gate: $PASSED passed, $FAILED failed"
((FAILED == 0))
