#!/usr/bin/env bash
# Throwaway PostgreSQL 15 and MariaDB servers for tests, the load gate and benchmarks.
#
#   tools/test-servers.sh start DIR [pg] [mysql]   start them (both by default) under DIR, print the env
#   tools/test-servers.sh env DIR                  print the export lines again (eval "$(... env DIR)")
#   tools/test-servers.sh stop DIR                 stop them and delete what start created under DIR
#
# Both listen on 127.0.0.1 on free ports, keep all data under DIR and never touch the system services.
# The env (also written to DIR/env) is what tests/Shared/PostgresTestServer.cs and MariaDbTestServer.cs read:
#   EDGE_TEST_PG_HOST/PORT/USER/PASSWORD/DATABASE       superuser postgres, SCRAM password, database postgres
#   EDGE_TEST_MYSQL_HOST/PORT/USER/PASSWORD/DATABASE    user edge (mysql_native_password, all privileges), database edgetest
# Users, passwords and TLS match what those fixtures create when they start their own servers:
# PostgreSQL also has edge_scram (scram), edge_md5 (md5), edge_clear (password) and edge_trust (trust)
# logins; MariaDB also has edge_nopw (no password). Both offer TLS with a self-signed certificate.
# Tuned for tests, not durability: fsync off, small buffers.
set -euo pipefail

PG_BIN=/usr/lib/postgresql/15/bin
PG_USER=postgres PG_PASSWORD=edge-pg-Pa55 PG_DATABASE=postgres
MYSQL_USER=edge MYSQL_PASSWORD=edge-Pa55 MYSQL_DATABASE=edgetest
START_TIMEOUT=60

die() { echo "test-servers: $*" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
is_root() { [[ $(id -u) -eq 0 ]]; }

# PostgreSQL refuses to run as root: as root, run its tools as user postgres.
as_pg() { if is_root; then runuser -u postgres -- "$@"; else "$@"; fi; }

# A self-signed certificate for 127.0.0.1/localhost (cert.pem, key.pem in $1); false without openssl.
make_certificate() {
  command -v openssl >/dev/null || return 1
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=127.0.0.1 \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -keyout "$1/key.pem" -out "$1/cert.pem" >/dev/null 2>&1
  chmod 600 "$1/key.pem"
}

start_pg() { # DIR
  local dir=$1/pg port attempt options tls=off
  [[ -x $PG_BIN/postgres ]] || die "PostgreSQL 15 is not installed ($PG_BIN/postgres)"
  mkdir -p "$dir"
  make_certificate "$dir" && tls=on
  printf '%s\n' "$PG_PASSWORD" > "$dir/pwfile"
  is_root && chown -R postgres: "$dir"
  as_pg "$PG_BIN/initdb" -D "$dir/data" -U "$PG_USER" --pwfile="$dir/pwfile" -E UTF8 --locale=C \
    --auth-local=trust --auth-host=scram-sha-256 --no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  rm -f "$dir/pwfile"
  cat > "$dir/data/pg_hba.conf" <<'HBA'
local all all trust
host all edge_trust 127.0.0.1/32 trust
host all edge_md5 127.0.0.1/32 md5
host all edge_clear 127.0.0.1/32 password
host all all 127.0.0.1/32 scram-sha-256
HBA
  is_root && chown postgres: "$dir/data/pg_hba.conf"
  # A free port can be taken between probing and binding: try a few.
  for attempt in 1 2 3; do
    port=$(free_port)
    options="-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off"
    options+=" -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=128MB -c log_min_messages=warning"
    options+=" -c ssl=$tls -c ssl_cert_file=$dir/cert.pem -c ssl_key_file=$dir/key.pem"
    if as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t "$START_TIMEOUT" -o "$options" start >/dev/null 2>&1; then
      break
    fi
    grep -q "Address already in use" "$dir/server.log" 2>/dev/null && [[ $attempt -lt 3 ]] && continue
    tail -20 "$dir/server.log" >&2 2>/dev/null || true
    die "postgres did not start"
  done
  # Over the local socket (trust). md5 needs password_encryption=md5 while its password is set.
  as_pg "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U "$PG_USER" -d postgres >/dev/null <<'SQL' || die "creating PostgreSQL roles failed"
CREATE ROLE edge_scram LOGIN SUPERUSER PASSWORD 'scram-Pa55';
CREATE ROLE edge_clear LOGIN PASSWORD 'clear-Pa55';
CREATE ROLE edge_trust LOGIN;
SET password_encryption = 'md5';
CREATE ROLE edge_md5 LOGIN PASSWORD 'md5-Pa55';
SQL
  cat > "$1/pg.env" <<ENV
export EDGE_TEST_PG_HOST=127.0.0.1
export EDGE_TEST_PG_PORT=$port
export EDGE_TEST_PG_USER=$PG_USER
export EDGE_TEST_PG_PASSWORD=$PG_PASSWORD
export EDGE_TEST_PG_DATABASE=$PG_DATABASE
ENV
}

# True once the server on port $1 sends its greeting (a packet with protocol version 10).
mysql_greets() {
  python3 - "$1" <<'PY' 2>/dev/null
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
head = b""
while len(head) < 5:
    chunk = s.recv(5 - len(head))
    if not chunk:
        break
    head += chunk
sys.exit(0 if len(head) == 5 and head[4] == 10 else 1)
PY
}

start_mysql() { # DIR
  local dir=$1/mysql port attempt pid deadline os_user ssl=()
  command -v mariadbd >/dev/null || [[ -x /usr/sbin/mariadbd ]] || die "mariadbd is not installed (apt-get install mariadb-server)"
  local mariadbd; mariadbd=$(command -v mariadbd || echo /usr/sbin/mariadbd)
  os_user=$(id -un)
  mkdir -p "$dir"
  make_certificate "$dir" && ssl=(--ssl-cert="$dir/cert.pem" --ssl-key="$dir/key.pem")
  mariadb-install-db --no-defaults --auth-root-authentication-method=normal --skip-test-db \
    --datadir="$dir/data" --user="$os_user" >"$dir/install.log" 2>&1 || { tail -20 "$dir/install.log" >&2; die "mariadb-install-db failed"; }
  # Runs at every start, so it must be repeatable (a retry after a port clash runs it again).
  cat > "$dir/init.sql" <<SQL
DROP USER IF EXISTS ''@'localhost';
CREATE USER IF NOT EXISTS '$MYSQL_USER'@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('$MYSQL_PASSWORD');
GRANT ALL PRIVILEGES ON *.* TO '$MYSQL_USER'@'%' WITH GRANT OPTION;
CREATE USER IF NOT EXISTS 'edge_nopw'@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('');
GRANT ALL PRIVILEGES ON *.* TO 'edge_nopw'@'%';
CREATE DATABASE IF NOT EXISTS $MYSQL_DATABASE;
SQL
  for attempt in 1 2 3; do
    port=$(free_port)
    : > "$dir/error.log"
    # setsid: its own process group, so ctrl-c in the caller's terminal reaches the caller's trap, not mariadbd.
    setsid "$mariadbd" --no-defaults --datadir="$dir/data" --port="$port" --bind-address=127.0.0.1 \
      --socket="$dir/sock" --pid-file="$dir/mariadbd.pid" --user="$os_user" --log-error="$dir/error.log" \
      --skip-name-resolve --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci \
      --max-connections=500 --innodb-buffer-pool-size=128M --skip-log-bin \
      --innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0 "${ssl[@]}" --init-file="$dir/init.sql" \
      </dev/null >/dev/null 2>&1 &
    pid=$!
    echo "$pid" > "$dir/process.pid"
    deadline=$((SECONDS + START_TIMEOUT))
    while ((SECONDS < deadline)) && kill -0 "$pid" 2>/dev/null; do
      grep -q "ready for connections" "$dir/error.log" && mysql_greets "$port" && break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null && grep -q "ready for connections" "$dir/error.log"; then
      break
    fi
    kill -KILL "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
    grep -q "Address already in use\|Can't start server: Bind" "$dir/error.log" && [[ $attempt -lt 3 ]] && continue
    tail -20 "$dir/error.log" >&2
    die "mariadbd did not start"
  done
  cat > "$1/mysql.env" <<ENV
export EDGE_TEST_MYSQL_HOST=127.0.0.1
export EDGE_TEST_MYSQL_PORT=$port
export EDGE_TEST_MYSQL_USER=$MYSQL_USER
export EDGE_TEST_MYSQL_PASSWORD=$MYSQL_PASSWORD
export EDGE_TEST_MYSQL_DATABASE=$MYSQL_DATABASE
export EDGE_TEST_MYSQL_TLS=$([[ ${#ssl[@]} -gt 0 ]] && echo 1 || echo 0)
ENV
}

stop_pg() { # DIR
  local dir=$1/pg
  [[ -f $dir/data/postmaster.pid ]] && as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w -t 20 stop >/dev/null 2>&1 || true
  rm -rf "$dir" "$1/pg.env"
}

stop_mysql() { # DIR
  local dir=$1/mysql pid i
  if [[ -f $dir/process.pid ]]; then
    pid=$(cat "$dir/process.pid")
    # Only signal it if it is still the mariadbd we started on this data dir.
    if grep -qa -- "--datadir=$dir/data" "/proc/$pid/cmdline" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for i in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -rf "$dir" "$1/mysql.env"
}

print_env() { cat "$1"/pg.env "$1"/mysql.env 2>/dev/null > "$1/env" || true; cat "$1/env"; }

cmd=${1:-}; DIR=${2:-}
[[ -n $cmd && -n $DIR ]] || { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
case $cmd in
  start)
    shift 2
    want_pg=1 want_mysql=1
    if (($#)); then
      want_pg=0 want_mysql=0
      for w in "$@"; do case $w in pg) want_pg=1 ;; mysql) want_mysql=1 ;; *) die "unknown server '$w' (pg, mysql)" ;; esac; done
    fi
    [[ -e $DIR/pg || -e $DIR/mysql ]] && die "$DIR already holds servers; stop them first"
    mkdir -p "$DIR"; DIR=$(cd "$DIR" && pwd)
    # PostgreSQL runs as user postgres and must reach its directory.
    if is_root; then chmod 755 "$DIR"; runuser -u postgres -- test -x "$DIR" || die "user postgres cannot enter $DIR (use a directory under /tmp)"; fi
    # Both at once: initdb and mariadb-install-db take a few seconds each.
    pids=()
    ((want_pg)) && { start_pg "$DIR" & pids+=($!); }
    ((want_mysql)) && { start_mysql "$DIR" & pids+=($!); }
    ok=1
    for p in "${pids[@]}"; do wait "$p" || ok=0; done
    if ((!ok)); then stop_pg "$DIR"; stop_mysql "$DIR"; rm -f "$DIR/env"; rmdir "$DIR" 2>/dev/null || true; exit 1; fi
    print_env "$DIR"
    ;;
  env) [[ -f $DIR/env ]] || die "no servers in $DIR"; cat "$DIR/env" ;;
  stop)
    [[ -d $DIR ]] || exit 0
    DIR=$(cd "$DIR" && pwd)
    stop_pg "$DIR"; stop_mysql "$DIR"; rm -f "$DIR/env"
    rmdir "$DIR" 2>/dev/null || true
    ;;
  *) die "unknown command '$cmd' (start, env, stop)" ;;
esac
