#!/usr/bin/env python3
"""Memory per idle client connection of a PostgreSQL-wire server (Edge, PgBouncer, PostgreSQL).

Opens COUNT connections, completes the startup handshake on each (trust auth: StartupMessage, then
read up to ReadyForQuery), keeps them idle, and reports how much the server process's resident
memory grew per connection: (RSS with COUNT idle connections - RSS before) / COUNT.

  perf/IdleConnections/idle_connections.py --port 15432 --pid $(pidof lakeops-edge) --count 5000

Before the baseline it opens and closes a few connections, so one-time start-up costs (thread pool,
buffer pools) are not charged to the idle connections. Needs a file descriptor limit above COUNT
(it raises its own soft limit to the hard limit; the server needs the same). Exit code 1 when a
handshake fails or connections were dropped.
"""
import argparse
import resource
import select
import socket
import struct
import sys
import time

PROTOCOL_3_0 = 196608


def startup_message(user: str, database: str) -> bytes:
    body = struct.pack("!i", PROTOCOL_3_0)
    for key, value in (("user", user), ("database", database), ("application_name", "idle_connections")):
        body += key.encode() + b"\0" + value.encode() + b"\0"
    body += b"\0"
    return struct.pack("!i", len(body) + 4) + body


def read_exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("server closed the connection during startup")
        data += chunk
    return data


def finish_startup(sock: socket.socket) -> None:
    """Reads backend messages until ReadyForQuery; an ErrorResponse or an auth request fails."""
    while True:
        kind, length = struct.unpack("!ci", read_exact(sock, 5))
        body = read_exact(sock, length - 4)
        if kind == b"Z":
            return
        if kind == b"E":
            fields = [f[1:].decode(errors="replace") for f in body.split(b"\0") if f]
            raise ConnectionError("server error: " + " / ".join(fields))
        if kind == b"R" and struct.unpack("!i", body[:4])[0] != 0:
            raise ConnectionError("server asks for a password; use a trust listener")


def open_batch(args, count: int) -> list:
    """Connects COUNT sockets, sends all startup messages, then completes each handshake."""
    socks = []
    message = startup_message(args.user, args.database)
    for _ in range(count):
        s = socket.create_connection((args.host, args.port), timeout=args.timeout)
        s.sendall(message)
        socks.append(s)
    for s in socks:
        finish_startup(s)
    return socks


def rss_kb(pid: int) -> dict:
    values = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, rest = line.partition(":")
            if name in ("VmRSS", "RssAnon", "Threads"):
                values[name] = int(rest.split()[0])
    return values


def alive(socks: list) -> int:
    """Counts connections the server has not closed (a closed one polls readable, then reads EOF)."""
    poller = select.poll()
    by_fd = {s.fileno(): s for s in socks}
    for fd in by_fd:
        poller.register(fd, select.POLLIN)
    closed = 0
    for fd, events in poller.poll(0):
        if events & (select.POLLHUP | select.POLLERR):
            closed += 1
            continue
        try:
            if by_fd[fd].recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b"":
                closed += 1
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
    return len(socks) - closed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--user", default="edge")
    parser.add_argument("--database", default="local")
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--pid", type=int, help="server process to measure (omit to only open connections)")
    parser.add_argument("--batch", type=int, default=100, help="connections in flight at once")
    parser.add_argument("--settle", type=float, default=2.0, help="seconds to wait before measuring")
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--idle-wait", type=float, default=0.0,
                        help="then wait this long with the connections idle and measure again (a server may give "
                             "memory back once the login burst is over: Edge's server.memory_trim)")
    args = parser.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < args.count + 64:
        print(f"idle_connections: file descriptor hard limit {hard} is below {args.count + 64}", file=sys.stderr)
        return 1
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    # Warm-up, not measured.
    for s in open_batch(args, min(args.batch, args.count)):
        s.close()
    time.sleep(args.settle)
    try:
        before = rss_kb(args.pid) if args.pid else None
    except FileNotFoundError:
        print(f"idle_connections: no process {args.pid}", file=sys.stderr)
        return 1

    socks = []
    started = time.monotonic()
    try:
        while len(socks) < args.count:
            socks += open_batch(args, min(args.batch, args.count - len(socks)))
    except (OSError, ConnectionError) as error:
        print(f"idle_connections: failed after {len(socks)} connections: {error}", file=sys.stderr)
        return 1
    elapsed = time.monotonic() - started
    time.sleep(args.settle)
    after = rss_kb(args.pid) if args.pid else None
    live = alive(socks)

    print(f"idle connections: {len(socks)} opened in {elapsed:.2f} s ({len(socks) / elapsed:.0f}/s), "
          f"{live} still open after {args.settle:g} s")
    if before and after:
        per_rss = (after["VmRSS"] - before["VmRSS"]) * 1024 / args.count
        per_anon = (after["RssAnon"] - before["RssAnon"]) * 1024 / args.count
        print(f"server RSS: {before['VmRSS'] / 1024:.1f} MB before, {after['VmRSS'] / 1024:.1f} MB with "
              f"{args.count} idle connections; threads {before['Threads']} -> {after['Threads']}")
        print(f"bytes per idle connection: {per_rss:.0f} (RSS), {per_anon:.0f} (anonymous memory only)")
        if args.idle_wait > 0:
            time.sleep(args.idle_wait)
            idle = rss_kb(args.pid)
            live = alive(socks)
            print(f"after {args.idle_wait:g} s more idle: {idle['VmRSS'] / 1024:.1f} MB, "
                  f"bytes per idle connection: {(idle['VmRSS'] - before['VmRSS']) * 1024 / args.count:.0f} (RSS), "
                  f"{(idle['RssAnon'] - before['RssAnon']) * 1024 / args.count:.0f} (anonymous memory only); "
                  f"{live} still open")
    for s in socks:
        s.close()
    return 0 if live == len(socks) else 1


if __name__ == "__main__":
    sys.exit(main())
