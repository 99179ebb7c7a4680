"""Two gateway processes and two consumers of one agency on one real Redis: 10,000 tickets, each
delivered, handled and archived exactly once, with one consumer process killed half-way."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import redis

from gateway.tickets.keys import FEEDBACK_GROUP, QUEUE_GROUP, Keys

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
N = 10_000


def _reader(proc: subprocess.Popen[str], sink: list[str], claimed: list[str]) -> None:
    assert proc.stdout
    for line in proc.stdout:
        if line.startswith("{"):
            doc = json.loads(line)
            sink.append(doc["ticket"]["ticket_id"])
            if doc["claimed"]:
                claimed.append(doc["ticket"]["ticket_id"])


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_two_gateways_two_consumers_10000_tickets_one_consumer_killed(redis_url, config_dir, tmp_path):
    gw = config_dir / "gateway.yaml"
    gw.write_text(
        gw.read_text(encoding="utf-8").replace("claim_idle_ms: 60000", "claim_idle_ms: 1000"),
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "LINKAGE_CONFIG": str(gw),
        "PYTHONPATH": str(ROOT),
        "LINKAGE_LOG_LEVEL": "ERROR",
    }
    stop = tmp_path / "stop"
    py = sys.executable
    gateways = [
        subprocess.Popen(
            [py, str(HERE / "gateway_proc.py"), p, str(N // 2), str(stop)],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for p in ("A", "B")
    ]
    consume = [py, "-m", "gateway", "agency", "consume", "--agency", "water", "--handle", "--json"]
    victim = subprocess.Popen(
        [*consume, "--name", "victim"], env=env, stdout=subprocess.PIPE, text=True, stderr=subprocess.DEVNULL
    )
    survivor = subprocess.Popen(
        [*consume, "--name", "survivor", "--idle-exit", "8"],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        stderr=subprocess.DEVNULL,
    )
    got_v: list[str] = []
    got_s: list[str] = []
    took_over: list[str] = []
    threads = [
        threading.Thread(target=_reader, args=a, daemon=True)
        for a in ((victim, got_v, []), (survivor, got_s, took_over))
    ]
    for t in threads:
        t.start()
    r = redis.Redis.from_url(redis_url)
    queue = Keys().queue("water")
    try:
        deadline = time.monotonic() + 300
        while len(got_v) < N // 4 and time.monotonic() < deadline and victim.poll() is None:
            time.sleep(0.01)
        # Kill it half-way while it holds read-but-unacked tickets: freeze it, look, then kill
        # (or let it run on a moment when it holds none).
        while time.monotonic() < deadline:
            victim.send_signal(signal.SIGSTOP)
            pending_at_kill = r.xpending_range(queue, QUEUE_GROUP, "-", "+", 1000, consumername="victim")
            if pending_at_kill:
                break
            victim.send_signal(signal.SIGCONT)
            time.sleep(0.002)
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        db = sqlite3.connect(config_dir.parent / "var" / "archive.sqlite3", timeout=30)
        while time.monotonic() < deadline:
            handled = db.execute("SELECT count(*) FROM tickets WHERE status = 'handled'").fetchone()[0]
            if handled == N:
                break
            time.sleep(0.5)
        assert handled == N, f"only {handled} of {N} tickets handled and archived"
    finally:
        stop.touch()
        for p in [*gateways, survivor]:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
        victim.kill()
    for t in threads:
        t.join(5)

    ids = {f"{p}-{i:05d}" for p in "AB" for i in range(N // 2)}
    assert set(got_v) | set(got_s) == ids  # every ticket reached a consumer
    assert len(got_v) >= N // 4 and len(got_s) >= N // 4  # both really worked
    assert pending_at_kill, "the victim was killed with nothing pending: the take-over was not exercised"
    assert len(took_over) >= len(pending_at_kill)  # the survivor claimed what the victim held (XAUTOCLAIM)
    rows = dict(db.execute("SELECT type, count(*) FROM ticket_events GROUP BY type").fetchall())
    distinct = dict(
        db.execute("SELECT type, count(DISTINCT ticket_id) FROM ticket_events GROUP BY type").fetchall()
    )
    for kind in ("created", "delivered", "accepted", "arrived", "handled"):
        assert rows[kind] == distinct[kind] == N, (kind, rows, distinct)  # exactly once each
    assert "rejected_transition" not in rows
    assert db.execute("SELECT count(*) FROM tickets").fetchone()[0] == N
    assert r.xpending(queue, QUEUE_GROUP)["pending"] == 0
    assert r.xpending(Keys().feedback("water"), FEEDBACK_GROUP)["pending"] == 0
    assert r.xlen(Keys().dead("water")) == 0
