"""The SQLite archive writer and reader on ``schema.sql``: tickets, every event once, calls, rates."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

SCHEMA = Path(__file__).with_name("schema.sql")
SCHEMA_VERSION = 1
OPEN_STATUSES = ("created", "delivered", "accepted", "arrived", "returned")
SATISFIED = ("satisfied", "basically_satisfied")


def _now() -> str:
    t = dt.datetime.now(dt.UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def _json(value: Any) -> str:
    return json.dumps(value if value is not None else {}, ensure_ascii=False, default=str)


def _ticket_row(doc: dict[str, Any]) -> tuple[Any, ...]:
    caller = doc.get("caller") or {}
    dl = doc.get("deadlines") or {}
    return (
        doc["ticket_id"],
        doc["incident_id"],
        doc.get("schema_version", 1),
        doc["source"],
        doc["status"],
        doc["route"],
        doc.get("agency"),
        _json(doc.get("joint_agencies") or []),
        doc.get("category"),
        doc.get("request_type"),
        doc.get("urgency"),
        caller.get("raw"),
        caller.get("e164"),
        int(bool(caller.get("valid"))),
        doc.get("location"),
        doc.get("summary"),
        doc["created_at"],
        doc["updated_at"],
        dl.get("due_at") or dl.get("handover_due_at"),
        dl.get("arrival_due_at"),
        doc.get("satisfaction"),
        _json(doc),
    )


_INSERT_EVENT = (
    "INSERT OR IGNORE INTO ticket_events (event_id, ticket_id, type, status_from, status_to, at, actor, data)"
    " VALUES (?,?,?,?,?,?,?,?)"
)
_OPEN_IN = ",".join(f"'{x}'" for x in OPEN_STATUSES)
_UPSERT_CALL = """
INSERT INTO calls (call_id, incident_id, leg, channel, caller_raw, caller_e164, agent, started_at, ended_at,
    outcome, triage) VALUES (?,?,?,?,?,?,?,?,?,?,?)
ON CONFLICT(call_id) DO UPDATE SET channel=COALESCE(excluded.channel, channel),
    caller_raw=COALESCE(excluded.caller_raw, caller_raw),
    caller_e164=COALESCE(excluded.caller_e164, caller_e164),
    agent=COALESCE(excluded.agent, agent), ended_at=COALESCE(excluded.ended_at, ended_at),
    outcome=COALESCE(excluded.outcome, outcome), triage=COALESCE(excluded.triage, triage)
"""
_UPSERT_TICKET = """
INSERT INTO tickets (ticket_id, incident_id, schema_version, source, status, route, agency, joint_agencies,
    category, request_type, urgency, caller_raw, caller_e164, caller_valid, location, summary, created_at,
    updated_at, due_at, arrival_due_at, satisfaction, doc)
VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
ON CONFLICT(ticket_id) DO UPDATE SET
    status=excluded.status, route=excluded.route, agency=excluded.agency,
    joint_agencies=excluded.joint_agencies, category=excluded.category, request_type=excluded.request_type,
    urgency=excluded.urgency, location=excluded.location, summary=excluded.summary,
    updated_at=excluded.updated_at, due_at=excluded.due_at, arrival_due_at=excluded.arrival_due_at,
    satisfaction=excluded.satisfaction, doc=excluded.doc
WHERE COALESCE(json_extract(excluded.doc, '$.version'), 0)
   >= COALESCE(json_extract(tickets.doc, '$.version'), 0)
"""


class Archive:
    """One SQLite file; safe to share between threads (one connection, one lock) and processes (WAL)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self.db = sqlite3.connect(str(path), check_same_thread=False, timeout=30, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA busy_timeout = 30000")
        with self._lock:
            self.db.executescript(SCHEMA.read_text(encoding="utf-8"))
            self.db.execute("PRAGMA synchronous = NORMAL")
            if not self.db.execute("SELECT 1 FROM schema_version").fetchone():
                self.db.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION,))

    def close(self) -> None:
        self.db.close()

    def _tx(self) -> Any:
        return _Tx(self)

    # ---- tickets and their events ------------------------------------------------------------
    def record_ticket(self, ticket: Any) -> None:
        """Insert or update a ticket row (an older version never overwrites a newer one)."""
        doc = ticket if isinstance(ticket, dict) else ticket.model_dump(mode="json")
        with self._tx():
            self.db.execute(_UPSERT_TICKET, _ticket_row(doc))

    def record_event(self, event: dict[str, Any]) -> bool:
        """Record one ticket event once (by ``event_id``); returns False for a duplicate."""
        return self.record_events([event]) == 1

    def record_events(self, events: Iterable[dict[str, Any]]) -> int:
        """Record events (and the ticket snapshot each carries) in one transaction; returns new rows."""
        n = 0
        with self._tx():
            for ev in events:
                cur = self.db.execute(
                    _INSERT_EVENT,
                    (
                        ev["event_id"],
                        ev["ticket_id"],
                        ev["type"],
                        ev.get("status_from"),
                        ev.get("status_to"),
                        ev.get("at") or _now(),
                        ev.get("actor"),
                        _json(ev.get("data")),
                    ),
                )
                n += cur.rowcount
                if ev.get("ticket"):
                    self.db.execute(_UPSERT_TICKET, _ticket_row(ev["ticket"]))
        return n

    def get_ticket(self, ticket_id: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT doc FROM tickets WHERE ticket_id = ?", (ticket_id,)).fetchone()
        return json.loads(row["doc"]) if row else None

    def history(self, ticket_id: str) -> list[dict[str, Any]]:
        """Every event of a ticket, oldest first."""
        rows = self.db.execute(
            "SELECT event_id, ticket_id, type, status_from, status_to, at, actor, data FROM ticket_events"
            " WHERE ticket_id = ? ORDER BY at, COALESCE(json_extract(data, '$.version'), 0), seq",
            (ticket_id,),
        ).fetchall()
        return [{**dict(r), "data": json.loads(r["data"])} for r in rows]

    # ---- calls, call events, recordings (writers for the telephony helpers) -------------------
    def record_call_event(self, event: dict[str, Any]) -> bool:
        """``{incident_id, type, at?, call_id?, event_id?, data?}``; once per ``event_id``
        (default: a hash of the content, so a replayed event is not doubled)."""
        if not event.get("incident_id") or not event.get("type"):
            raise ValueError("a call event needs incident_id and type")
        at = event.get("at") or _now()
        data = event.get("data") or {
            k: v for k, v in event.items() if k not in ("event_id", "incident_id", "call_id", "type", "at")
        }
        eid = (
            event.get("event_id")
            or hashlib.sha1(
                _json([event["incident_id"], event.get("call_id"), event["type"], at, data]).encode()
            ).hexdigest()
        )
        with self._tx():
            cur = self.db.execute(
                "INSERT OR IGNORE INTO call_events (event_id, incident_id, call_id, type, at, data)"
                " VALUES (?,?,?,?,?,?)",
                (eid, event["incident_id"], event.get("call_id"), event["type"], at, _json(data)),
            )
        return cur.rowcount == 1

    def record_call(
        self,
        call_id: str,
        incident_id: str,
        leg: str,
        *,
        started_at: str | None = None,
        channel: str | None = None,
        caller_raw: str | None = None,
        caller_e164: str | None = None,
        agent: str | None = None,
        ended_at: str | None = None,
        outcome: str | None = None,
        triage: dict[str, Any] | None = None,
    ) -> None:
        """Insert a call leg or update the fields given (None keeps what is stored)."""
        with self._tx():
            self.db.execute(
                _UPSERT_CALL,
                (
                    call_id,
                    incident_id,
                    leg,
                    channel,
                    caller_raw,
                    caller_e164,
                    agent,
                    started_at or _now(),
                    ended_at,
                    outcome,
                    _json(triage) if triage is not None else None,
                ),
            )

    def record_recording(
        self,
        recording_id: str,
        incident_id: str,
        leg: str,
        side: str,
        path: str,
        *,
        call_id: str | None = None,
        duration_s: float | None = None,
        created_at: str | None = None,
        deleted_at: str | None = None,
    ) -> None:
        with self._tx():
            self.db.execute(
                "INSERT INTO recordings (recording_id, incident_id, call_id, leg, side, path, duration_s,"
                " created_at, deleted_at) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT(recording_id) DO UPDATE SET"
                " duration_s=COALESCE(excluded.duration_s, duration_s),"
                " deleted_at=COALESCE(excluded.deleted_at, deleted_at)",
                (
                    recording_id,
                    incident_id,
                    call_id,
                    leg,
                    side,
                    path,
                    duration_s,
                    created_at or _now(),
                    deleted_at,
                ),
            )

    # ---- supervision -------------------------------------------------------------------------
    def escalate_overdue(self, now: str | None = None) -> list[dict[str, Any]]:
        """Raise one 督办 (``escalated``) event per missed deadline of each open ticket."""
        now = now or _now()
        out: list[dict[str, Any]] = []
        rows = self.db.execute(
            f"SELECT ticket_id, status, agency, doc FROM tickets WHERE status IN ({_OPEN_IN})"
        ).fetchall()
        for r in rows:
            dl = json.loads(r["doc"]).get("deadlines") or {}
            missed = []
            if dl.get("handover_due_at") and r["status"] == "created" and dl["handover_due_at"] < now:
                missed.append(("handover", dl["handover_due_at"]))
            if (
                dl.get("arrival_due_at")
                and r["status"] in ("created", "delivered", "accepted")
                and dl["arrival_due_at"] < now
            ):
                missed.append(("arrival", dl["arrival_due_at"]))
            if dl.get("due_at") and dl["due_at"] < now:
                missed.append(("work_order", dl["due_at"]))
            for kind, due in missed:
                out.append(
                    {
                        "event_id": f"{r['ticket_id']}:escalated:{kind}:{due}",
                        "ticket_id": r["ticket_id"],
                        "type": "escalated",
                        "status_from": r["status"],
                        "status_to": r["status"],
                        "at": now,
                        "actor": "supervisor",
                        "data": {"agency": r["agency"], "deadline": kind, "due_at": due},
                    }
                )
        with self._tx():
            fresh = []
            for ev in out:
                cur = self.db.execute(
                    _INSERT_EVENT,
                    (
                        ev["event_id"],
                        ev["ticket_id"],
                        ev["type"],
                        ev["status_from"],
                        ev["status_to"],
                        ev["at"],
                        ev["actor"],
                        _json(ev["data"]),
                    ),
                )
                if cur.rowcount:
                    fresh.append(ev)
            ids = sorted({ev["ticket_id"] for ev in out})
            self.db.executemany("UPDATE tickets SET overdue = 1 WHERE ticket_id = ?", [(i,) for i in ids])
        return fresh

    def overdue_count(self) -> int:
        return self.db.execute(
            f"SELECT count(*) FROM tickets WHERE overdue = 1 AND status IN ({_OPEN_IN})"
        ).fetchone()[0]

    def rates(self, since: str | None = None, until: str | None = None) -> list[dict[str, Any]]:
        """Per agency, over tickets assigned to it in [since, until):

        * 响应率 response rate = tickets it accepted ÷ tickets assigned to it;
        * 解决率 resolution rate = tickets it handled ÷ tickets assigned to it;
        * 满意率 satisfaction rate = satisfied or basically satisfied ÷ rated (of those tickets).
        A ticket returned (退单) counts as assigned and unresolved for the agency that returned it.
        """
        since, until = since or "0000", until or "9999"
        rows = self.db.execute(
            """
            WITH assigned AS (
                SELECT DISTINCT ticket_id, json_extract(data, '$.agency') AS agency FROM ticket_events
                WHERE type IN ('created', 'rerouted') AND at >= ? AND at < ?
                  AND json_extract(data, '$.agency') IS NOT NULL
            ), did AS (
                SELECT ticket_id, json_extract(data, '$.agency') AS agency, type,
                       json_extract(data, '$.satisfaction') AS sat FROM ticket_events
                WHERE type IN ('accepted', 'handled', 'rated')
            )
            SELECT a.agency,
                   count(DISTINCT a.ticket_id) AS assigned,
                   count(DISTINCT CASE WHEN d.type = 'accepted' THEN a.ticket_id END) AS accepted,
                   count(DISTINCT CASE WHEN d.type = 'handled' THEN a.ticket_id END) AS handled,
                   count(DISTINCT CASE WHEN d.type = 'rated' THEN a.ticket_id END) AS rated,
                   count(DISTINCT CASE WHEN d.type = 'rated' AND d.sat IN ('satisfied', 'basically_satisfied')
                                  THEN a.ticket_id END) AS satisfied
            FROM assigned a LEFT JOIN did d ON d.ticket_id = a.ticket_id AND d.agency = a.agency
            GROUP BY a.agency ORDER BY a.agency
            """,
            (since, until),
        ).fetchall()
        out = []
        for r in rows:
            d = dict(r)
            d["response_rate"] = d["accepted"] / d["assigned"] if d["assigned"] else None
            d["resolution_rate"] = d["handled"] / d["assigned"] if d["assigned"] else None
            d["satisfaction_rate"] = d["satisfied"] / d["rated"] if d["rated"] else None
            out.append(d)
        return out


class _Tx:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` under the archive's lock (re-entrant)."""

    def __init__(self, archive: Archive):
        self.a = archive

    def __enter__(self) -> None:
        self.a._lock.acquire()
        self.outer = not self.a.db.in_transaction
        if self.outer:
            self.a.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: Any, *_: Any) -> None:
        try:
            if self.outer:
                self.a.db.execute("ROLLBACK" if exc_type else "COMMIT")
        finally:
            self.a._lock.release()
