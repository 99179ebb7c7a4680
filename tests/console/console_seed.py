"""Seed the archive directly with SQL (the archive contract), as the other stages would write it."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.config import Config
from gateway.console import db


def iso(ts: float) -> str:
    return db.iso(ts)


class Clock:
    """A settable clock for the server (real time plus an offset the test moves)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@dataclass
class Archive:
    config: Config
    conn: sqlite3.Connection = field(init=False)

    def __post_init__(self) -> None:
        self.conn = db.connect(self.config)

    def call(
        self,
        call_id: str,
        incident_id: str,
        leg: str = "110",
        caller: str | None = "+8613800138000",
        agent: str | None = "taker1",
        started_at: float | None = None,
        outcome: str | None = "answered",
        triage: dict[str, Any] | None = None,
    ) -> None:
        started = time.time() - 600 if started_at is None else started_at
        self.conn.execute(
            "INSERT INTO calls (call_id, incident_id, leg, channel, caller_raw, caller_e164, agent,"
            " started_at,"
            " ended_at, outcome, triage) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                call_id,
                incident_id,
                leg,
                f"PJSIP/{leg}-0001",
                caller,
                caller,
                agent,
                iso(started),
                iso(started + 60),
                outcome,
                json.dumps(triage, ensure_ascii=False) if triage else None,
            ),
        )

    def ticket(
        self,
        ticket_id: str,
        incident_id: str,
        route: str = "hotline",
        agency: str | None = "water",
        status: str = "delivered",
        source: str = "110_transfer",
        created_at: float | None = None,
        due_at: float | None = None,
        arrival_due_at: float | None = None,
        overdue: bool = False,
        satisfaction: str | None = None,
        summary: str = "自来水停水三天 联系电话13800138000",
        caller: str = "+8613800138000",
        location: str = "城关镇幸福路12号",
    ) -> None:
        created = time.time() - 600 if created_at is None else created_at
        doc = {"ticket_id": ticket_id, "incident_id": incident_id, "route": route, "agency": agency}
        self.conn.execute(
            "INSERT INTO tickets (ticket_id, incident_id, schema_version, source, status, route, agency,"
            " category,"
            " request_type, urgency, caller_raw, caller_e164, caller_valid, location, summary, created_at,"
            " updated_at, due_at, arrival_due_at, overdue, satisfaction, doc)"
            " VALUES (?, ?, 1, ?, ?, ?, ?, ?, 'help', 'normal', ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                ticket_id,
                incident_id,
                source,
                status,
                route,
                agency,
                "停水",
                caller,
                caller,
                location,
                summary,
                iso(created),
                iso(created),
                iso(due_at) if due_at else None,
                iso(arrival_due_at) if arrival_due_at else None,
                int(overdue),
                satisfaction,
                json.dumps(doc),
            ),
        )

    def event(
        self, ticket_id: str, type_: str, at: float, status_to: str | None = None, actor: str = "water"
    ) -> None:
        self.conn.execute(
            "INSERT INTO ticket_events (event_id, ticket_id, type, status_from, status_to, at, actor)"
            " VALUES (?, ?, ?, NULL, ?, ?, ?)",
            (f"{ticket_id}:{type_}:{at}", ticket_id, type_, status_to or type_, iso(at), actor),
        )

    def recording(
        self,
        recording_id: str,
        incident_id: str,
        path: str,
        call_id: str | None = None,
        leg: str = "110",
        duration_s: float = 3.0,
        created_at: float | None = None,
    ) -> None:
        created = time.time() - 600 if created_at is None else created_at
        self.conn.execute(
            "INSERT INTO recordings (recording_id, incident_id, call_id, leg, side, path, duration_s,"
            " created_at)"
            " VALUES (?, ?, ?, ?, 'mix', ?, ?, ?)",
            (recording_id, incident_id, call_id, leg, path, duration_s, iso(created)),
        )

    def transcript(
        self,
        transcript_id: str,
        incident_id: str,
        recording_id: str | None,
        words: list[tuple[str, float, float, str]],
    ) -> None:
        """``words`` as (word, start, end, speaker)."""
        text = "".join(w for w, *_ in words)
        segments = [{"word": w, "start": s, "end": e, "speaker": sp, "conf": 0.9} for w, s, e, sp in words]
        self.conn.execute(
            "INSERT INTO transcripts (transcript_id, incident_id, recording_id, text, segments,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (
                transcript_id,
                incident_id,
                recording_id,
                text,
                json.dumps(segments, ensure_ascii=False),
                iso(time.time() - 500),
            ),
        )
        self.conn.execute(
            "INSERT INTO transcripts_fts (text, transcript_id, incident_id) VALUES (?, ?, ?)",
            (text, transcript_id, incident_id),
        )


def write_wav(path: Path, seconds: float = 3.0, rate: int = 8000) -> Path:
    """A small valid PCM WAV (a tone), for tests that need a file but not speech."""
    import math
    import struct
    import wave

    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        frames = b"".join(
            struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate)))
            for i in range(int(seconds * rate))
        )
        w.writeframes(frames)
    return path


_reactor_lock = threading.Lock()
_reactor_thread: threading.Thread | None = None


def start_reactor() -> None:
    """Run the global Twisted reactor in a daemon thread (once per test process)."""
    global _reactor_thread
    from twisted.internet import reactor

    with _reactor_lock:
        if _reactor_thread is None:
            _reactor_thread = threading.Thread(
                target=reactor.run, kwargs={"installSignalHandlers": False}, daemon=True, name="reactor"
            )
            _reactor_thread.start()
            for _ in range(200):
                if reactor.running:
                    break
                time.sleep(0.01)
