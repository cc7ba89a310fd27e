#!/usr/bin/env python3
"""An independent chat load generator (Python asyncio): one WebSocket per user, sends at a
fixed aggregate rate into groups, and measures send -> delivery latency at every member.

It runs as its own process, apart from the server and from `renkei-bench`, so the figures
do not share a runtime with either. The benchmark users must exist: `renkei-bench chat
--setup-only --token-cache F` creates them (bench/chat.sh does); their sessions are taken from
that cache, and any user missing from it is signed in here with the benchmark password.

Each run forms fresh groups (the administrator's cached session creates them), so sequence
numbers start low and nothing of an earlier run is delivered. Output: details on stderr, then
a Markdown header and one row on stdout; `--slow-log F` writes every delivery slower than
`--slow-ms` with its wall-clock send time, to set against the server's log.

Several nodes: behind a load balancer that names the node of each WebSocket in an
`X-Served-By` response header (bench/cluster.sh's HAProxy does), deliveries to a member on
another node than the sender's are also measured apart ("cross-node"). `--server-pid` may be
given once per node (their CPU is summed); `--bus-pid` is the NATS server's.

Usage: chat_client.py --server http://127.0.0.1:18100 --token-cache F [--clients 2000]
       [--group-size 10] [--rate 1000] [--duration 30] [--warmup 5] [--drain 10]
       [--server-pid PID]... [--bus-pid PID] [--label L] [--slow-log F] [--slow-ms 100]
Exit status: 0 when every acknowledged message reached every member exactly once.
"""

import argparse
import asyncio
import json
import os
import resource
import sys
import time
import urllib.request

try:
    from websockets.asyncio.client import connect
except ImportError:  # pragma: no cover - setup.sh installs it
    sys.exit("chat_client.py needs the websockets package: run scripts/setup.sh")

LOGIN_PREFIX = "bench-"
USER_PASSWORD = "renkei bench user 2026"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def http(method, url, token=None, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read() or b"null")


def cpu_ticks(pid):
    """utime + stime of a process, in clock ticks; None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return None


def postgres_ticks():
    """utime + stime of every process called postgres (the database under test and, on a
    shared machine, anyone else's queries on the same server)."""
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/comm") as f:
                if f.read().strip() != "postgres":
                    continue
        except OSError:
            continue
        total += cpu_ticks(pid) or 0
    return total


def machine_ticks():
    """(busy, all) ticks of every core since boot."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def total_ticks(pids):
    """utime + stime of every process of `pids`; None when there are none or one is gone."""
    ticks = [cpu_ticks(pid) for pid in pids]
    if not ticks or None in ticks:
        return None
    return sum(ticks)


class Readings:
    def __init__(self, server_pids, bus_pid):
        self.at = time.monotonic()
        self.server = total_ticks(server_pids)
        self.bus = total_ticks([bus_pid] if bus_pid else [])
        self.me = cpu_ticks(os.getpid())
        self.postgres = postgres_ticks()
        self.busy, _ = machine_ticks()

    def percent(self, later, field):
        a, b = getattr(self, field), getattr(later, field)
        if a is None or b is None:
            return None
        return 100.0 * (b - a) / CLK_TCK / (later.at - self.at)

    def ms_per(self, later, field, count):
        """CPU milliseconds of `field` per one of `count` things done between the readings."""
        a, b = getattr(self, field), getattr(later, field)
        if a is None or b is None or not count:
            return None
        return 1000.0 * (b - a) / CLK_TCK / count


class Ledger:
    """Every send of the run: when it left, whether it was acked, who got it."""

    def __init__(self, group_size, measure_from, measure_until, nodes):
        self.group_size = group_size
        self.nodes = nodes  # client index -> the node its socket reached
        self.measure_from = measure_from
        self.measure_until = measure_until
        self.sent = {}  # id -> (monotonic send time, wall-clock send time)
        self.acked = set()
        self.refused = set()
        self.received = {}  # id -> set of receiving clients
        self.ack_ms = []
        self.delivery_ms = []
        self.cross_ms = []  # deliveries to a member on another node than the sender's
        self.duplicates = 0
        self.duplicate_acks = 0
        self.unexpected = 0
        self.slow = []  # (wall-clock send, latency ms, receiver, id)

    def measured(self, sent_at):
        return self.measure_from <= sent_at < self.measure_until

    def on_frame(self, me, text, slow_ms):
        now = time.monotonic()
        # The two frames that matter are told apart without parsing everything else.
        if text.startswith('{"type":"event"'):
            if '"kind":"message.created"' not in text:
                return
            frame = json.loads(text)
            cid = ((frame.get("event") or {}).get("message") or {}).get("client_msg_id")
            sent = self.sent.get(cid)
            if sent is None:
                self.unexpected += 1
                return
            got = self.received.setdefault(cid, set())
            if me in got:
                self.duplicates += 1
                return
            got.add(me)
            if self.measured(sent[0]):
                ms = (now - sent[0]) * 1000.0
                self.delivery_ms.append(ms)
                if self.nodes[me] != self.nodes[int(cid.split("-")[1])]:
                    self.cross_ms.append(ms)
                if ms >= slow_ms:
                    self.slow.append((sent[1], ms, me, cid))
            return
        frame = json.loads(text)
        kind = frame.get("type")
        cid = frame.get("client_msg_id")
        if kind == "ack":
            sent = self.sent.get(cid)
            if sent is None:
                self.unexpected += 1
                return
            if frame.get("duplicate"):
                self.duplicate_acks += 1
            self.acked.add(cid)
            if self.measured(sent[0]):
                self.ack_ms.append((now - sent[0]) * 1000.0)
        elif kind == "error":
            if cid in self.sent:
                self.refused.add(cid)
            else:
                self.unexpected += 1

    def measured_acked(self):
        return sum(1 for cid in self.acked if self.measured(self.sent[cid][0]))

    def missing(self):
        return sum(self.group_size - len(self.received.get(cid, ())) for cid in self.acked)


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, round(p / 100.0 * len(sorted_values)) - 1))
    return sorted_values[k]


def sessions(args):
    """The members' sessions and the administrator's, from the token cache."""
    with open(args.token_cache) as f:
        cache = json.load(f)
    server = args.server
    cached = cache.get("servers", {}).get(server, {})
    admin = cache.get("admins", {}).get(server)
    if not admin:
        sys.exit(f"no administrator session for {server} in {args.token_cache}")
    members = []
    for i in range(args.clients):
        login = f"{LOGIN_PREFIX}{i:05d}"
        m = cached.get(login)
        if m is None:
            s = http("POST", f"{server}/api/v1/auth/login", body={"login": login, "password": USER_PASSWORD})
            m = {"login": login, "user_id": s["user"]["id"], "token": s["token"]}
        members.append(m)
    return admin, members


async def open_socket(ws_url, token, sem):
    async with sem:
        ws = await connect(ws_url, compression=None, ping_interval=None, max_queue=None,
                           open_timeout=60)
        await ws.send(json.dumps({"type": "hello", "token": token, "positions": None}))
        while True:
            frame = json.loads(await ws.recv())
            if frame.get("type") == "synced":
                return ws, ws.response.headers.get("x-served-by", "")
            if frame.get("type") == "error":
                raise RuntimeError(f"hello refused: {frame}")


async def reader(ws, me, ledger, slow_ms):
    try:
        async for text in ws:
            ledger.on_frame(me, text, slow_ms)
    except Exception:  # the run's end closes every socket
        pass


async def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--server", required=True)
    p.add_argument("--token-cache", required=True)
    p.add_argument("--clients", type=int, default=2000)
    p.add_argument("--group-size", type=int, default=10)
    p.add_argument("--rate", type=float, default=1000.0)
    p.add_argument("--duration", type=float, default=30.0)
    p.add_argument("--warmup", type=float, default=5.0)
    p.add_argument("--drain", type=float, default=10.0)
    p.add_argument("--server-pid", type=int, action="append", default=[])
    p.add_argument("--bus-pid", type=int)
    p.add_argument("--label", default="")
    p.add_argument("--slow-log")
    p.add_argument("--slow-ms", type=float, default=100.0)
    args = p.parse_args()
    if args.clients % args.group_size or args.group_size < 2:
        sys.exit("--clients must be a multiple of --group-size (at least 2)")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    admin, members = sessions(args)
    run = f"py{int(time.time() * 1000):x}"
    groups = []
    for g in range(args.clients // args.group_size):
        ids = [m["user_id"] for m in members[g * args.group_size:(g + 1) * args.group_size]]
        body = {"kind": "group", "title": f"bench {run} group {g}", "member_ids": ids,
                "include_me": False}
        groups.append(http("POST", f"{args.server}/api/v1/conversations", admin, body)["id"])

    ws_url = args.server.replace("http://", "ws://", 1).rstrip("/") + "/ws"
    started = time.monotonic()
    sem = asyncio.Semaphore(64)
    opened = await asyncio.gather(*(open_socket(ws_url, m["token"], sem) for m in members))
    sockets = [ws for ws, _ in opened]
    nodes = [node for _, node in opened]
    spread = {n: nodes.count(n) for n in sorted(set(nodes))}
    print(f"connect: {len(sockets)} clients synced in {time.monotonic() - started:.1f} s"
          + (f", per node {spread}" if len(spread) > 1 else ""), file=sys.stderr)

    start = time.monotonic() + 1.0
    measure_from = start + args.warmup
    measure_until = measure_from + args.duration
    ledger = Ledger(args.group_size, measure_from, measure_until, nodes)
    readers = [asyncio.create_task(reader(ws, i, ledger, args.slow_ms))
               for i, ws in enumerate(sockets)]

    async def sender():
        """Sends on one schedule for everyone: send j leaves at start + j / rate, from
        client j mod N, so each client sends every N / rate seconds."""
        j = 0
        worst_lag = 0.0
        while True:
            due = start + j / args.rate
            if due >= measure_until:
                return worst_lag
            now = time.monotonic()
            if due > now:
                await asyncio.sleep(due - now)
                now = time.monotonic()
            worst_lag = max(worst_lag, now - due)
            me = j % args.clients
            cid = f"{run}-{me}-{j}"
            ledger.sent[cid] = (now, time.time())
            frame = ('{"type":"send","conversation_id":"%s","client_msg_id":"%s","body":"%s"}'
                     % (groups[me // args.group_size], cid, cid))
            try:
                await sockets[me].send(frame)
            except Exception as e:  # counted as missing acks
                print(f"send failed: {e}", file=sys.stderr)
            j += 1

    send_task = asyncio.create_task(sender())
    await asyncio.sleep(max(0.0, measure_from - time.monotonic()))
    before = Readings(args.server_pid, args.bus_pid)
    await asyncio.sleep(max(0.0, measure_until - time.monotonic()))
    after = Readings(args.server_pid, args.bus_pid)
    worst_lag = await send_task
    drain_until = time.monotonic() + args.drain
    while time.monotonic() < drain_until:
        pending = len(ledger.sent) - len(ledger.acked) - len(ledger.refused)
        if pending == 0 and ledger.missing() == 0:
            break
        await asyncio.sleep(0.1)
    for ws in sockets:
        await ws.close()
    for task in readers:
        task.cancel()

    ack = sorted(ledger.ack_ms)
    delivery = sorted(ledger.delivery_ms)
    cross = sorted(ledger.cross_ms)
    measured = ledger.measured_acked()
    sent = len(ledger.sent)
    acked = len(ledger.acked)
    missing = ledger.missing()
    fmt = lambda v: "–" if v is None else f"{v:.0f} %"
    per_msg = lambda field: (lambda v: "–" if v is None else f"{v:.3f}")(
        before.ms_per(after, field, measured))
    server_cpu = before.percent(after, "server")
    me_cpu = before.percent(after, "me")
    pg_cpu = before.percent(after, "postgres")
    machine = before.percent(after, "busy")
    bus_cpu = before.percent(after, "bus")
    others = None
    if machine is not None:
        others = machine - (server_cpu or 0) - (me_cpu or 0) - (pg_cpu or 0) - (bus_cpu or 0)
    lat = lambda xs: "/".join(
        f"{percentile(xs, q):.1f}" for q in (50, 99)) + f" / {xs[-1]:.0f}" if xs else "–"
    print(f"sent {sent}, acked {acked}, refused {len(ledger.refused)}, missing {missing}, "
          f"duplicates {ledger.duplicates}, duplicate acks {ledger.duplicate_acks}, "
          f"unexpected {ledger.unexpected}, worst send lag {worst_lag * 1000:.0f} ms, "
          f"p99.9 delivery {percentile(delivery, 99.9):.1f} ms", file=sys.stderr)
    if args.slow_log:
        with open(args.slow_log, "w") as f:
            for at, ms, me, cid in sorted(ledger.slow):
                f.write(f"{at:.3f} {ms:.1f} {me} {cid}\n")
    print("| label | clients | group | msg/s | acked / sent | ack p50/p99 / max (ms) "
          "| delivery p50/p99 / max (ms) | missing / dup | server CPU | client CPU "
          "| PostgreSQL CPU | others' CPU | cross-node delivery p50/p99 / max (ms) "
          "| NATS CPU | CPU ms/msg: renkei / PostgreSQL / NATS |")
    print("|---|---:|---:|---:|---|---|---|---|---:|---:|---:|---:|---|---:|---|")
    print(f"| {args.label} | {args.clients} | {args.group_size} | {args.rate:.0f} "
          f"| {acked} / {sent} | {lat(ack)} | {lat(delivery)} "
          f"| {missing} / {ledger.duplicates} | {fmt(server_cpu)} | {fmt(me_cpu)} "
          f"| {fmt(pg_cpu)} | {fmt(others)} | {lat(cross)} | {fmt(bus_cpu)} "
          f"| {per_msg('server')} / {per_msg('postgres')} / {per_msg('bus')} |")
    complete = (acked == sent and missing == 0 and ledger.duplicates == 0
                and not ledger.refused and ledger.unexpected == 0)
    return 0 if complete else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
