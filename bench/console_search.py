"""Console search latency on a seeded archive: trigram FTS beside a plain LIKE scan of the same text.

Usage: python bench/console_search.py [--incidents 20000]
Prints a table, then one JSON object of the figures as the last line.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gateway.config import load_config  # noqa: E402
from gateway.console import db  # noqa: E402
from gateway.console.auth import User  # noqa: E402
from gateway.console.search import Query, search  # noqa: E402

PHRASES = [
    "我家自来水停了",
    "楼道里的灯坏了好几天",
    "小区门口有人占道经营",
    "隔壁装修噪音太大",
    "工资被拖欠三个月",
    "出租车拒载还绕路",
    "燃气表不走字",
    "暖气片不热",
    "下水道堵了污水外溢",
    "网购退款商家不理",
]


def seed(conn: sqlite3.Connection, n: int) -> None:
    rnd = random.Random(7)
    now = time.time()
    calls, tickets, trans, fts = [], [], [], []
    for i in range(n):
        inc = f"inc-{i}"
        started = db.iso(now - rnd.random() * 90 * 86400)
        caller = f"+86138{rnd.randrange(10**8):08d}"
        text = "".join(rnd.sample(PHRASES, 3)) + ("液化气罐泄漏" if i % 1000 == 0 else "")
        calls.append((f"c-{i}", inc, "110", caller, caller, f"taker{i % 50}", started))
        tickets.append(
            (
                f"T-{i}",
                inc,
                rnd.choice(["water", "power", "housing", "market"]),
                started,
                rnd.choice(["delivered", "closed"]),
                int(rnd.random() < 0.05),
            )
        )
        trans.append((f"tr-{i}", inc, text, started))
        fts.append((text, f"tr-{i}", inc))
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO calls (call_id, incident_id, leg, caller_raw, caller_e164, agent, started_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        calls,
    )
    conn.executemany(
        "INSERT INTO tickets (ticket_id, incident_id, schema_version, source, status, route, agency,"
        " created_at, updated_at, doc, overdue) VALUES (?1, ?2, 1, '110_transfer', ?5, 'hotline', ?3,"
        " ?4, ?4, '{}', ?6)",
        tickets,
    )
    conn.executemany(
        "INSERT INTO transcripts (transcript_id, incident_id, text, created_at) VALUES (?, ?, ?, ?)", trans
    )
    conn.executemany("INSERT INTO transcripts_fts (text, transcript_id, incident_id) VALUES (?, ?, ?)", fts)
    conn.execute("COMMIT")


def timed(fn, repeat: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples), max(samples)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--incidents", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    try:
        cfg_dir = tmp / "config"
        shutil.copytree(ROOT / "config", cfg_dir)
        gw = cfg_dir / "gateway.yaml"
        gw.write_text(
            gw.read_text(encoding="utf-8").replace("data_dir: ../var", f"data_dir: {tmp / 'var'}"),
            encoding="utf-8",
        )
        config = load_config(gw)
        conn = db.connect(config)
        seed(conn, args.incidents)
        boss = User(1, "boss", "supervisor", None, None, False)
        taker = User(2, "taker7", "call_taker", None, "taker7", False)
        fts_count = "SELECT COUNT(DISTINCT incident_id) FROM transcripts_fts WHERE transcripts_fts MATCH ?"
        like_count = "SELECT COUNT(DISTINCT incident_id) FROM transcripts WHERE text LIKE ?"
        cases = {
            "index_fts_rare_term": lambda: conn.execute(fts_count, ('"液化气罐"',)).fetchall(),
            "peer_like_scan_rare_term": lambda: conn.execute(like_count, ("%液化气罐%",)).fetchall(),
            "index_fts_common_term": lambda: conn.execute(fts_count, ('"占道经营"',)).fetchall(),
            "peer_like_scan_common_term": lambda: conn.execute(like_count, ("%占道经营%",)).fetchall(),
            "search_rare_term": lambda: search(conn, boss, Query(text="液化气罐")),
            "search_common_term_30pct": lambda: search(conn, boss, Query(text="占道经营")),
            "search_like_fallback_2char": lambda: search(conn, boss, Query(text="噪音")),
            "search_caller_exact": lambda: search(conn, boss, Query(caller="138 0000 1234")),
            "search_agency_overdue": lambda: search(conn, boss, Query(agency="water", overdue=True)),
            "search_call_taker_scoped": lambda: search(conn, taker, Query(text="自来水")),
        }
        figures = {}
        print(f"{'case':30} {'median ms':>10} {'max ms':>10}   ({args.incidents} incidents)")
        for name, fn in cases.items():
            med, worst = timed(fn, args.repeat)
            figures[name] = {"median_ms": round(med, 2), "max_ms": round(worst, 2)}
            print(f"{name:30} {med:10.2f} {worst:10.2f}")
        conn.close()
        print(json.dumps({"bench": "console_search", "incidents": args.incidents, **figures}))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
