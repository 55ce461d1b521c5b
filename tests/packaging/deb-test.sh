#!/usr/bin/env bash
# Installs the lakeops-edge .deb on this machine, starts the binary the way its systemd unit would
# (the unit's user and group, ExecStart, WorkingDirectory, LimitNOFILE, UMask, NoNewPrivileges, no
# capabilities, $NOTIFY_SOCKET from a stand-in for systemd), connects with psql, stops it with SIGTERM,
# then purges the package and removes the user it created: the machine is left as it was.
#
#   tests/packaging/deb-test.sh [PACKAGE.deb]
# Without an argument it builds the package from artifacts/publish/linux-x64 (or $EDGE_PUBLISH_DIR).
# Needs root (dpkg -i). The service runs in a private network namespace when `unshare --net` works,
# so the default config's port 15432 cannot collide with anything else on the machine.
# Last line: "deb-test: N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
NAME=lakeops-edge
UNIT=/lib/systemd/system/$NAME.service

[[ $(id -u) -eq 0 ]] || { echo "deb-test: needs root (dpkg -i)" >&2; exit 1; }
if dpkg-query -W -f='${db:Status-Status}' "$NAME" 2>/dev/null | grep -qv '^not-installed$'; then
  echo "deb-test: $NAME is already installed here; not touching it" >&2; exit 1
fi
user_existed=0; getent passwd "$NAME" >/dev/null && user_existed=1
group_existed=0; getent group "$NAME" >/dev/null && group_existed=1

work=$(mktemp -d /tmp/edge-deb-test.XXXXXX)
chmod 0755 "$work"
notify_pid=""
cleanup() {
  [[ -n $notify_pid ]] && kill "$notify_pid" 2>/dev/null || true
  local pid; pid=$(cat "$work/edge.pid" 2>/dev/null || true)
  [[ -n $pid && $(cat "/proc/$pid/comm" 2>/dev/null) == lakeops-edge ]] && kill -KILL "$pid" 2>/dev/null || true
  dpkg --purge "$NAME" >/dev/null 2>&1 || true
  ((user_existed)) || userdel "$NAME" 2>/dev/null || true
  ((group_existed)) || groupdel "$NAME" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

PASSED=0 FAILED=0
check() { # description, command...
  local what=$1; shift
  if "$@" >"$work/check.out" 2>&1; then PASSED=$((PASSED + 1)); echo "deb-test: ok   $what"
  else FAILED=$((FAILED + 1)); echo "deb-test: FAIL $what"; sed 's/^/    /' "$work/check.out" | head -20; fi
}

deb=${1:-}
if [[ -z $deb ]]; then
  deb=$(packaging/build-deb.sh "${EDGE_PUBLISH_DIR:-$ROOT/artifacts/publish/linux-x64}" "$work/deb")
fi
echo "deb-test: installing $deb"
# Not apt: the dependencies are checked, not fetched (a missing one fails the test).
dpkg -i "$deb" >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; exit 1; }

check "binary and libduckdb.so in /usr/lib/$NAME" test -x "/usr/lib/$NAME/lakeops-edge" -a -f "/usr/lib/$NAME/libduckdb.so"
check "/usr/bin/lakeops-edge runs" bash -c "/usr/bin/lakeops-edge version | grep -q '^lakeops-edge '"
check "unit at $UNIT" test -f "$UNIT"
check "edge.yaml is a conffile" bash -c "dpkg-query -W -f='\${Conffiles}' $NAME | grep -q ' */etc/$NAME/edge.yaml '"
check "system user $NAME without a login shell" bash -c "getent passwd $NAME | grep -q ':/usr/sbin/nologin\$'"
check "config is root:$NAME 0640" bash -c "[[ \$(stat -c %U:%G:%a /etc/$NAME/edge.yaml) == root:$NAME:640 ]]"
check "state directory is $NAME:$NAME 0750" bash -c "[[ \$(stat -c %U:%G:%a /var/lib/$NAME) == $NAME:$NAME:750 ]]"
check "the service user can read and validate the config" runuser -u "$NAME" -- "/usr/lib/$NAME/lakeops-edge" validate --config "/etc/$NAME/edge.yaml"
if command -v systemd-analyze >/dev/null; then
  check "systemd-analyze verify $UNIT" bash -c "out=\$(systemd-analyze verify $UNIT 2>&1); echo \"\$out\"; [[ -z \$out ]]"
else
  echo "deb-test: skip systemd-analyze verify (not installed)"
fi

# What the unit says, so this test follows it.
unit() { sed -n "s/^$1=//p" "$UNIT" | tail -1; }
exec_start=$(unit ExecStart) user=$(unit User) group=$(unit Group) workdir=$(unit WorkingDirectory)
nofile=$(unit LimitNOFILE) umask_value=$(unit UMask)
check "unit runs as $NAME with NoNewPrivileges and no capabilities" bash -c "[[ '$user:$group' == '$NAME:$NAME' ]] && grep -qx 'NoNewPrivileges=yes' $UNIT && grep -qx 'CapabilityBoundingSet=' $UNIT"

# A stand-in for systemd's notify socket: a unix datagram socket at a path, every message on one line.
python3 - "$work/notify.sock" "$work/notify.log" <<'PY' &
import os, socket, sys
path, log = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o666)
with open(log, "a", buffering=1) as out:
    while True:
        out.write(s.recv(4096).decode().replace("\n", "\\n") + "\n")
PY
notify_pid=$!
for _ in $(seq 1 100); do [[ -S $work/notify.sock ]] && break; sleep 0.05; done
touch "$work/notify.log"

# The service's life, in a private network namespace when possible (its own loopback, port 15432 free).
cat > "$work/service.sh" <<SERVICE
set -u
ip link set lo up 2>/dev/null || true
# A container's hard limit may be below LimitNOFILE (systemd, as root, would raise it): then take the hard limit.
cd '$workdir' && { ulimit -n $nofile 2>/dev/null || ulimit -n \$(ulimit -Hn); } && umask $umask_value
setpriv --reuid='$user' --regid='$group' --init-groups --no-new-privs --inh-caps=-all --bounding-set=-all -- \
  env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 NOTIFY_SOCKET='$work/notify.sock' $exec_start 2>'$work/edge.log' &
edge=\$!
echo \$edge > '$work/edge.pid'
for _ in \$(seq 1 300); do grep -qx 'READY=1' '$work/notify.log' && break; kill -0 \$edge 2>/dev/null || break; sleep 0.1; done
echo "ready=\$(grep -cx 'READY=1' '$work/notify.log')"
echo "user=\$(ps -o user= -p \$edge)"
echo "nofile=\$(sed -n 's/^Max open files *\([0-9]*\).*/\1/p' /proc/\$edge/limits)"
echo "nnp=\$(sed -n 's/^NoNewPrivs:[[:space:]]*//p' /proc/\$edge/status)"
echo "capbnd=\$(sed -n 's/^CapBnd:[[:space:]]*//p' /proc/\$edge/status)"
echo "cwd=\$(readlink /proc/\$edge/cwd)"
echo "psql=\$(PGCONNECT_TIMEOUT=10 psql -X -A -t 'host=127.0.0.1 port=15432 user=edge dbname=local' -c 'select 40 + 2' 2>&1)"
kill -TERM \$edge
wait \$edge
echo "exit=\$?"
SERVICE
if unshare --net true 2>/dev/null; then
  echo "deb-test: running the service in a private network namespace"
  unshare --net bash "$work/service.sh" > "$work/service.out" 2>&1
else
  echo "deb-test: unshare --net unavailable: the service binds port 15432 on this host"
  bash "$work/service.sh" > "$work/service.out" 2>&1
fi
result() { sed -n "s/^$1=//p" "$work/service.out"; }
check "READY=1 on \$NOTIFY_SOCKET once the listener is bound" test "$(result ready)" = 1
check "runs as $NAME" test "$(result user)" = "$NAME"
hard_nofile=$(ulimit -Hn)
if [[ $hard_nofile != unlimited && $hard_nofile -lt $nofile ]]; then
  echo "deb-test: skip LimitNOFILE=$nofile (this machine's hard limit is $hard_nofile; the service ran with $(result nofile))"
else
  check "LimitNOFILE=$nofile applied" test "$(result nofile)" = "$nofile"
fi
check "no new privileges, empty capability bounding set" test "$(result nnp):$(result capbnd)" = "1:0000000000000000"
check "working directory $workdir" test "$(result cwd)" = "$workdir"
check "psql select through the installed service" test "$(result psql)" = 42
check "STOPPING=1 on SIGTERM" grep -qx 'STOPPING=1' "$work/notify.log"
check "exit code 0 after SIGTERM" test "$(result exit)" = 0
if ((FAILED)); then echo "--- service output"; cat "$work/service.out"; echo "--- edge log"; cat "$work/edge.log" 2>/dev/null; fi

dpkg --purge "$NAME" >"$work/dpkg.log" 2>&1 || cat "$work/dpkg.log"
check "purge removes files, config, state and unit" bash -c "! test -e /usr/lib/$NAME -o -e /usr/bin/lakeops-edge -o -e /etc/$NAME -o -e /var/lib/$NAME -o -e /var/log/$NAME -o -e $UNIT"
check "the package is gone" bash -c "! dpkg-query -W -f='\${db:Status-Status}' $NAME 2>/dev/null | grep -q installed"

echo "deb-test: $PASSED passed, $FAILED failed"
((FAILED == 0))
