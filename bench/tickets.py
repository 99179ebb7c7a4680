"""Tickets per second created and delivered end to end through a real Redis, and the latency
from create to consumer read.

    python bench/tickets.py [--tickets 20000] [--batch 200]

Starts a private redis-server (or uses REDIS_URL), creates tickets with ``TicketService.create_many``
(pipelined, one process = one core) while an ``AgencyConsumer`` in a second process reads and acks
them. For scale it also runs a bare XADD/XREADGROUP loop with the same payload (the floor any
ticket layer on Redis Streams pays). Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402

DRAFT = {
    "incident_id": "I-bench",
    "source": "12345_direct",
    "caller": "13812345678",
    "location": "幸福路 3 号",
    "agency": "water",
    "request_type": "help",
    "category": "no_water",
    "summary": "家里停水两天, 请尽快处理",
    "keywords": ["停水"],
}


def _config(tmp: Path):
    from gateway.config import load_config

    shutil.copytree(ROOT / "config", tmp / "config")
    gw = tmp / "config" / "gateway.yaml"
    gw.write_text(
        gw.read_text(encoding="utf-8").replace("data_dir: ../var", f"data_dir: {tmp / 'var'}"),
        encoding="utf-8",
    )
    return load_config(gw)


def consumer(url: str, config_path: str, n: int, prefix: str) -> None:
    """Child process: read n tickets as one agency consumer; print latencies as JSON."""
    from gateway.agency import AgencyConsumer
    from gateway.config import load_config

    config = load_config(config_path)
    c = AgencyConsumer(redis.Redis.from_url(url), config, "water", "bench")
    lat: list[float] = []
    print("ready", flush=True)
    last = 0
    while len(lat) < n:
        batch = c.read(count=500, block_ms=2000, claim_every_s=3600)
        if not batch:
            continue
        c.ack(*batch)
        now = time.time() * 1000
        for d in batch:
            lat.append(now - d.created_ms)
        last = now
    print(json.dumps({"latencies": lat, "last_ms": last}), flush=True)


def raw_baseline(r: redis.Redis, n: int, batch: int) -> float:
    """XADD (pipelined) + XREADGROUP + XACK of the same payload, no ticket logic: entries/s."""
    stream, payload = "bench:raw", json.dumps(DRAFT, ensure_ascii=False) * 3
    r.delete(stream)
    r.xgroup_create(stream, "g", id="0", mkstream=True)
    t0 = time.perf_counter()
    for i in range(0, n, batch):
        p = r.pipeline(transaction=False)
        for _ in range(min(batch, n - i)):
            p.xadd(stream, {"doc": payload})
        p.execute()
    read = 0
    while read < n:
        res = r.xreadgroup("g", "c", {stream: ">"}, count=500)
        ids = [e[0] for e in res[0][1]]
        r.xack(stream, "g", *ids)
        read += len(ids)
    return n / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tickets", type=int, default=20_000)
    ap.add_argument("--batch", type=int, default=200)
    ap.add_argument("--role", default="bench")
    ap.add_argument("--url")
    ap.add_argument("--config")
    args = ap.parse_args()
    if args.role == "consumer":
        consumer(args.url, args.config, args.tickets, "")
        return

    from gateway.tickets import TicketService

    tmp = Path(tempfile.mkdtemp(prefix="bench-tickets-"))
    server = None
    url = os.environ.get("REDIS_URL")
    try:
        if not url:
            sys.path.insert(0, str(ROOT / "tests"))
            from conftest import RedisServer

            server = RedisServer(tmp)
            server.start()
            url = server.url
        r = redis.Redis.from_url(url)
        r.flushdb()
        config = _config(tmp)
        svc = TicketService(r, config, spool_dir=tmp / "spool")
        svc.create_many([{**DRAFT, "ticket_id": "warmup"}])
        r.flushdb()
        svc._ready.clear()
        svc.create_many([{**DRAFT, "ticket_id": "warmup"}])  # groups exist before the consumer starts
        child = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--role",
                "consumer",
                "--url",
                url,
                "--config",
                str(config.config_dir / "gateway.yaml"),
                "--tickets",
                str(args.tickets + 1),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout and child.stdout.readline().strip() == "ready"
        n = args.tickets
        t0 = time.time()
        c0 = time.process_time()
        for i in range(0, n, args.batch):
            svc.create_many(
                [
                    {**DRAFT, "ticket_id": f"T{j:07d}", "caller": f"138{j:08d}"}
                    for j in range(i, min(i + args.batch, n))
                ]
            )
        create_s = time.time() - t0
        cpu_s = time.process_time() - c0
        out = json.loads(child.stdout.readline())
        child.wait(30)
        lat = sorted(out["latencies"][1:])
        e2e_s = out["last_ms"] / 1000 - t0
        raw = raw_baseline(r, n, args.batch)
    finally:
        if server:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    q = statistics.quantiles(lat, n=100)
    fig = {
        "tickets": n,
        "batch": args.batch,
        "tickets_per_s": round(n / e2e_s),
        "created_per_s": round(n / create_s),
        "created_per_cpu_s": round(n / cpu_s),
        "p50_ms": round(q[49], 2),
        "p99_ms": round(q[98], 2),
        "raw_xadd_read_per_s": round(raw),
    }
    rows = [
        ("tickets created and delivered end to end", f"{fig['tickets_per_s']:>10,}/s"),
        ("tickets created (producer, wall)", f"{fig['created_per_s']:>10,}/s"),
        ("tickets created per producer CPU second", f"{fig['created_per_cpu_s']:>10,}/s"),
        ("create → consumer read p50", f"{fig['p50_ms']:>10.2f} ms"),
        ("create → consumer read p99", f"{fig['p99_ms']:>10.2f} ms"),
        ("bare XADD+XREADGROUP+XACK, same payload", f"{fig['raw_xadd_read_per_s']:>10,}/s"),
    ]
    print(f"{'measure':<44}{'value':>14}")
    for k, v in rows:
        print(f"{k:<44}{v:>14}")
    print(f"(target: >= 5,000 tickets/s end to end; {n} tickets, pipeline batch {args.batch})")
    print(json.dumps(fig))


if __name__ == "__main__":
    main()
