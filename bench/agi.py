#!/usr/bin/env python3
"""FastAGI sessions/s and AMI events/s: ours (Twisted) vs panoramisk vs pyst2, same bytes.

Every implementation under test runs in its own process pinned to one core (CPU 0); the load
generator (a FastAGI "Asterisk" client, or a fake AMI server) runs here, unpinned.
Bytes come from the real Asterisk 22 captures in ``shared/asterisk/``:

* FastAGI: a client opens a connection, sends the captured environment block, answers the five
  commands of the captured session with the captured replies, waits for the close; 20 at a time.
* AMI: a fake server sends the banner, accepts the login and streams the captured events (those
  without an ActionID) as fast as the client reads; the client counts events delivered to a handler.

The last line printed is one JSON object with the figures.

    python bench/agi.py [--seconds 1] [--rounds 3] [--only ours,panoramisk,pyst2]
"""

from __future__ import annotations

import argparse
import json
import os
import selectors
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

IMPLS = ("ours", "panoramisk", "pyst2")
REFERENCE = "twisted_bare"  # calibration: a bare Twisted LineReceiver, no parsing, no routing
CONCURRENCY = 20
WARMUP_S = 0.3


def captures_dir() -> Path:
    for p in (Path(os.environ.get("LINKAGE_SHARED", ROOT.parent / "shared")) / "asterisk",
              Path("/work/shared/asterisk")):
        if p.is_dir():
            return p
    raise SystemExit("shared/asterisk captures not found (set LINKAGE_SHARED)")


def agi_bytes() -> tuple[bytes, list[bytes]]:
    """The captured env block and the five replies of session 1, exactly as Asterisk sent them."""
    cap = captures_dir()
    env = (cap / "agi-session-1-some_script.env.txt").read_bytes()
    body = (cap / "agi-session-1-some_script.from-asterisk.txt").read_bytes()[len(env):]
    replies = body.splitlines(keepends=True)
    assert len(replies) == 5, replies
    return env, replies


def ami_blob(min_bytes: int = 1 << 20) -> tuple[bytes, int]:
    """Captured events without an ActionID, repeated to at least ``min_bytes``; (blob, events)."""
    cap = captures_dir()
    events = []
    for name in ("ami-events-flow.txt", "ami-events-sample.txt"):
        for block in (cap / name).read_bytes().split(b"\r\n\r\n"):
            block = block.strip(b"\r\n")
            if block.startswith(b"Event:") and b"\r\nActionID:" not in block:
                events.append(block + b"\r\n\r\n")
    unit = b"".join(events)
    reps = max(1, min_bytes // len(unit) + 1)
    return unit * reps, len(events) * reps


def pin(cpu: int) -> None:
    try:
        if len(os.sched_getaffinity(0)) > 1 and cpu < os.cpu_count():
            os.sched_setaffinity(0, {cpu})
    except (AttributeError, OSError):
        pass


# ---------------------------------------------------------------------------------------------
# FastAGI servers under test: each runs the same five commands as the captured session.

def install_reactor() -> None:
    """LINKAGE_BENCH_REACTOR=poll|epoll|select (default epoll, Twisted's default on Linux)."""
    name = os.environ.get("LINKAGE_BENCH_REACTOR", "epoll")
    module = {"poll": "pollreactor", "epoll": "epollreactor", "select": "selectreactor"}[name]
    __import__(f"twisted.internet.{module}", fromlist=["install"]).install()


def serve_agi_ours(port: int) -> None:
    install_reactor()
    from twisted.internet import reactor

    from gateway.telephony.agi import FastAGIFactory, HandlerRegistry

    registry = HandlerRegistry()

    @registry.register("some_script")
    async def some_script(s):
        await s.answer()
        await s.get_variable("CHANNEL")
        await s.set_variable("HARNESS_FROM_AGI", "hello from fastagi")
        await s.stream_file("harness/agent")
        await s.get_variable("HARNESS_NOT_SET")

    from gateway.telephony.agi.transport import EagerTCPServerEndpoint

    # the listener `linkage run` uses (gateway/telephony/service.py)
    EagerTCPServerEndpoint(reactor, port, backlog=512, interface="127.0.0.1").listen(
        FastAGIFactory(registry, max_connections=1000))
    reactor.callWhenRunning(lambda: print("ready", flush=True))
    reactor.run()


def serve_agi_twisted_bare(port: int) -> None:
    """The floor for any Twisted FastAGI server on this machine: sends the five commands, parses
    nothing but line ends, closes."""
    install_reactor()
    from twisted.internet import protocol, reactor
    from twisted.protocols.basic import LineOnlyReceiver

    commands = [b"ANSWER", b"GET VARIABLE CHANNEL", b'SET VARIABLE HARNESS_FROM_AGI "hello from fastagi"',
                b'STREAM FILE harness/agent ""', b"GET VARIABLE HARNESS_NOT_SET"]

    class Bare(LineOnlyReceiver):
        delimiter = b"\n"
        step = -1

        def lineReceived(self, line: bytes) -> None:
            if self.step < 0 and line:
                return
            self.step += 1
            if self.step < len(commands):
                self.sendLine(commands[self.step])
            else:
                self.transport.loseConnection()

    reactor.listenTCP(port, protocol.Factory.forProtocol(Bare), backlog=512, interface="127.0.0.1")
    reactor.callWhenRunning(lambda: print("ready", flush=True))
    reactor.run()


def serve_agi_panoramisk(port: int) -> None:
    import asyncio

    from panoramisk.fast_agi import Application

    async def some_script(request):
        await request.send_command("ANSWER")
        await request.send_command("GET VARIABLE CHANNEL")
        await request.send_command('SET VARIABLE HARNESS_FROM_AGI "hello from fastagi"')
        await request.send_command('STREAM FILE harness/agent ""')
        await request.send_command("GET VARIABLE HARNESS_NOT_SET")

    async def main() -> None:
        app = Application(loop=asyncio.get_running_loop())
        app.add_route("some_script", some_script)
        server = await asyncio.start_server(app.handler, "127.0.0.1", port, backlog=512)
        print("ready", flush=True)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def serve_agi_pyst2(port: int) -> None:
    import io
    import socketserver

    from asterisk.agi import AGI

    devnull = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the server

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            out = io.TextIOWrapper(self.wfile, encoding="utf-8", write_through=True)
            agi = AGI(stdin=self.rfile, stdout=out, stderr=devnull)
            agi.answer()
            agi.get_variable("CHANNEL")
            agi.set_variable("HARNESS_FROM_AGI", "hello from fastagi")
            agi.stream_file("harness/agent")
            agi.get_variable("HARNESS_NOT_SET")

    class Server(socketserver.ForkingTCPServer):  # as pyst2's fastagi.py runs it
        allow_reuse_address = True
        request_queue_size = 512

    with Server(("127.0.0.1", port), Handler) as server:
        print("ready", flush=True)
        server.serve_forever()


# ---------------------------------------------------------------------------------------------
# AMI clients under test: log in, count events delivered to a handler, print JSON.

def ami_client_ours(port: int, seconds: float) -> dict:
    install_reactor()
    from twisted.internet import reactor
    from twisted.internet.endpoints import TCP4ClientEndpoint

    from gateway.telephony.ami import AmiClient

    count = [0]
    marks: dict[str, float | int] = {}
    client = AmiClient(TCP4ClientEndpoint(reactor, "127.0.0.1", port), "bench", "bench-secret",
                       ping_interval_s=3600, reconnect_initial_s=0.2)

    def handler(_msg) -> None:
        count[0] += 1

    def mark(name: str) -> None:
        marks[name], marks[name + "_t"] = count[0], time.perf_counter()
        if name == "end":
            client.stop()
            reactor.stop()

    def resync(_c) -> None:
        reactor.callLater(WARMUP_S, mark, "start")
        reactor.callLater(WARMUP_S + seconds, mark, "end")

    client.on("*", handler)
    client.on_resync(resync)
    client.start()
    reactor.run()
    return {"events": marks["end"] - marks["start"], "seconds": marks["end_t"] - marks["start_t"]}


def ami_client_panoramisk(port: int, seconds: float) -> dict:
    import asyncio

    from panoramisk import Manager

    count = [0]

    async def main() -> dict:
        loop = asyncio.get_running_loop()
        manager = Manager(loop=loop, host="127.0.0.1", port=port, username="bench",
                          secret="bench-secret", ping_delay=3600, ping_interval=3600)

        def handler(_manager, _msg) -> None:
            count[0] += 1

        manager.register_event("*", handler)
        await manager.connect()
        while not manager.authenticated:
            await asyncio.sleep(0.01)
        await asyncio.sleep(WARMUP_S)
        c0, t0 = count[0], time.perf_counter()
        await asyncio.sleep(seconds)
        c1, t1 = count[0], time.perf_counter()
        manager.close()
        return {"events": c1 - c0, "seconds": t1 - t0}

    return asyncio.run(main())


def ami_client_pyst2(port: int, seconds: float) -> dict:
    from asterisk.manager import Manager

    count = [0]
    manager = Manager()

    def handler(_event, _manager) -> None:
        count[0] += 1

    manager.register_event("*", handler)
    manager.connect("127.0.0.1", port)
    manager.login("bench", "bench-secret")
    time.sleep(WARMUP_S)
    c0, t0 = count[0], time.perf_counter()
    time.sleep(seconds)
    c1, t1 = count[0], time.perf_counter()
    os._exit(print(json.dumps({"events": c1 - c0, "seconds": t1 - t0}), flush=True) or 0)


# ---------------------------------------------------------------------------------------------
# Load generators (this process).

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawn(args: list[str]) -> subprocess.Popen:
    # pyst2 prints a traceback for every session the load generator cuts off at the end of a run
    quiet = subprocess.DEVNULL if "pyst2" in args else None
    return subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE, stderr=quiet,
                            text=True, preexec_fn=lambda: pin(0), env={**os.environ, "PYTHONPATH": str(ROOT)})


def agi_load(port: int, seconds: float, env: bytes, replies: list[bytes]) -> dict:
    """Keep CONCURRENCY FastAGI sessions going; count those that got all five replies and a close."""
    sel = selectors.DefaultSelector()
    addr = ("127.0.0.1", port)
    done = [0]
    errors = [0]

    def start() -> None:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.setblocking(False)
        s.connect_ex(addr)
        sel.register(s, selectors.EVENT_WRITE, [0])

    def finish(s: socket.socket, ok: bool) -> None:
        sel.unregister(s)
        s.close()
        if ok:
            done[0] += 1
        else:
            errors[0] += 1
        start()

    for _ in range(CONCURRENCY):
        start()
    t_start = time.perf_counter()
    t_warm, t_end = t_start + WARMUP_S, t_start + WARMUP_S + seconds
    c0 = None
    while True:
        now = time.perf_counter()
        if c0 is None and now >= t_warm:
            c0, t0 = done[0], now
        if now >= t_end:
            c1, t1 = done[0], now
            break
        for key, mask in sel.select(0.05):
            s, state = key.fileobj, key.data
            if mask & selectors.EVENT_WRITE:
                try:
                    s.send(env)
                except OSError:
                    finish(s, False)
                    continue
                sel.modify(s, selectors.EVENT_READ, state)
                continue
            try:
                data = s.recv(65536)
            except OSError:
                finish(s, False)
                continue
            if not data:
                finish(s, state[0] == len(replies))
                continue
            n = data.count(b"\n")
            i = state[0]
            if i + n > len(replies):
                finish(s, False)
                continue
            s.send(b"".join(replies[i:i + n]))
            state[0] = i + n
    for key in list(sel.get_map().values()):
        key.fileobj.close()
    sel.close()
    return {"sessions": c1 - c0, "seconds": t1 - t0, "errors": errors[0]}


class FakeAmiServer:
    """Banner, login accepted, then the event blob again and again until the client goes."""

    def __init__(self, blob: bytes):
        self.blob = blob
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            conn.sendall(b"Asterisk Call Manager/11.0.0\r\n")
            buf = b""
            while b"\r\n\r\n" not in buf:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                buf += chunk
            login = buf.split(b"\r\n\r\n", 1)[0].decode()
            headers = dict(ln.split(": ", 1) for ln in login.split("\r\n") if ": " in ln)
            aid = next((v for k, v in headers.items() if k.lower() == "actionid"), "")
            conn.sendall(f"Response: Success\r\nActionID: {aid}\r\nMessage: Authentication accepted\r\n\r\n"
                         .encode())
            while True:
                conn.sendall(self.blob)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self.sock.close()


def run_agi(impl: str, seconds: float, env: bytes, replies: list[bytes]) -> dict:
    port = free_port()
    proc = spawn(["--agi-server", impl, "--port", str(port)])
    try:
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError(f"{impl} FastAGI server did not start")
        return agi_load(port, seconds, env, replies)
    finally:
        proc.kill()
        proc.wait()


def run_ami(impl: str, seconds: float, blob: bytes) -> dict:
    server = FakeAmiServer(blob)
    proc = spawn(["--ami-client", impl, "--port", str(server.port), "--seconds", str(seconds)])
    try:
        out, _ = proc.communicate(timeout=seconds + 30)
        return json.loads(out.strip().splitlines()[-1])
    finally:
        if proc.poll() is None:
            proc.kill()
        server.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=1.0, help="measured window per run")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds; the best counts")
    ap.add_argument("--only", default=",".join(IMPLS))
    ap.add_argument("--no-reference", action="store_true", help="skip the bare Twisted calibration run")
    ap.add_argument("--agi-server", choices=(*IMPLS, REFERENCE))
    ap.add_argument("--ami-client", choices=IMPLS)
    ap.add_argument("--port", type=int)
    args = ap.parse_args()

    if args.agi_server:
        {"ours": serve_agi_ours, "panoramisk": serve_agi_panoramisk, "pyst2": serve_agi_pyst2,
         REFERENCE: serve_agi_twisted_bare}[args.agi_server](args.port)
        return
    if args.ami_client:
        fn = {"ours": ami_client_ours, "panoramisk": ami_client_panoramisk, "pyst2": ami_client_pyst2}
        print(json.dumps(fn[args.ami_client](args.port, args.seconds)), flush=True)
        return

    # the load generator floats: pinning it to a shared, busy core only adds wake-up latency
    impls = [i for i in args.only.split(",") if i in IMPLS]
    env, replies = agi_bytes()
    blob, _ = ami_blob()
    # Rounds interleave the implementations so a busy machine hurts them alike; best round counts.
    best: dict[str, dict[str, float]] = {i: {"agi": 0.0, "ami": 0.0, "errors": 0} for i in impls}
    bare = 0.0
    for _ in range(args.rounds):
        if not args.no_reference:
            ref = run_agi(REFERENCE, args.seconds, env, replies)
            bare = max(bare, ref["sessions"] / ref["seconds"])
        for impl in impls:
            agi = run_agi(impl, args.seconds, env, replies)
            ami = run_ami(impl, args.seconds, blob)
            b = best[impl]
            b["agi"] = max(b["agi"], agi["sessions"] / agi["seconds"])
            b["ami"] = max(b["ami"], ami["events"] / ami["seconds"])
            b["errors"] += agi["errors"]
    figures: dict[str, float] = {}
    print(f"{'implementation':<12} {'FastAGI sessions/s':>19} {'errors':>7} {'AMI events/s':>14}")
    for impl in impls:
        b = best[impl]
        prefix = "" if impl == "ours" else f"{impl}_"
        figures[f"{prefix}agi_sessions_per_s"] = round(b["agi"])
        figures[f"{prefix}ami_events_per_s"] = round(b["ami"])
        print(f"{impl:<12} {b['agi']:>19,.0f} {b['errors']:>7} {b['ami']:>14,.0f}")
    if not args.no_reference:
        figures["twisted_bare_agi_sessions_per_s"] = round(bare)
        print(f"{'(bare Twisted line server, reference)':<40} {bare:>9,.0f}")
        if "ours" in best and bare:
            # the floor any Twisted server meets on this machine: ours as a share of it
            figures["agi_share_of_twisted_floor"] = round(best["ours"]["agi"] / bare, 3)
            print(f"{'ours / bare Twisted':<40} {best['ours']['agi'] / bare:>9.2f}")
    figures["server_cpus"] = 1
    figures["concurrency"] = CONCURRENCY
    figures["seconds_per_run"] = args.seconds
    figures["rounds"] = args.rounds
    figures["loadavg_1m"] = os.getloadavg()[0]
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
