"""One incident as the call page shows it: legs with audio and transcript, triage, ticket timelines."""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any

from gateway.console.auth import User
from gateway.console.media import Signer
from gateway.logs import mask_phone

TIMELINE = ("created", "delivered", "accepted", "arrived", "handled", "returned", "closed")
# Which deadline column each event answers.
DEADLINE_OF = {"arrived": "arrival_due_at", "handled": "due_at", "closed": "due_at"}


def _json(text: str | None, default: Any) -> Any:
    try:
        return json.loads(text) if text else default
    except (TypeError, ValueError):
        return default


def _word(raw: dict[str, Any], speaker: str | None) -> dict[str, Any] | None:
    text = raw.get("word") or raw.get("w") or raw.get("text")
    try:
        start, end = float(raw["start"]), float(raw["end"])
    except (KeyError, TypeError, ValueError):
        return None
    if not text:
        return None
    return {
        "w": str(text),
        "start": start,
        "end": end,
        "speaker": raw.get("speaker") or speaker,
        "conf": raw.get("conf"),
    }


def normalise_segments(raw: Any) -> list[dict[str, Any]]:
    """Transcript JSON in either shape (segments with ``words``, or a flat word list) as
    ``[{speaker, start, end, words: [{w, start, end, conf}]}]``, a new segment per speaker turn."""
    words: list[dict[str, Any]] = []
    if isinstance(raw, dict):
        raw = raw.get("segments") or raw.get("words") or []
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict):
            continue
        if isinstance(item.get("words"), list):
            for w in item["words"]:
                if isinstance(w, dict) and (n := _word(w, item.get("speaker"))):
                    words.append(n)
        elif n := _word(item, None):
            words.append(n)
    segments: list[dict[str, Any]] = []
    for w in words:
        speaker = w.pop("speaker") or "unknown"
        if not segments or segments[-1]["speaker"] != speaker:
            segments.append({"speaker": speaker, "start": w["start"], "end": w["end"], "words": []})
        segments[-1]["words"].append(w)
        segments[-1]["end"] = w["end"]
    return segments


def _deadline_state(at: str | None, due: str | None, now_iso: str) -> str | None:
    if not due:
        return None
    if at:
        return "met" if at <= due else "missed"
    return "missed" if now_iso > due else "pending"


def ticket_timeline(conn: sqlite3.Connection, ticket: sqlite3.Row, now_iso: str) -> dict[str, Any]:
    events = conn.execute(
        "SELECT type, status_from, status_to, at, actor, data FROM ticket_events"
        " WHERE ticket_id = ? ORDER BY seq",
        (ticket["ticket_id"],),
    ).fetchall()
    out_events = []
    first_at: dict[str, str] = {}
    for e in events:
        first_at.setdefault(e["type"], e["at"])
        col = DEADLINE_OF.get(e["type"])
        due = ticket[col] if col else None
        out_events.append(
            {
                "type": e["type"],
                "status_from": e["status_from"],
                "status_to": e["status_to"],
                "at": e["at"],
                "actor": e["actor"],
                "data": _json(e["data"], {}),
                "due": due,
                "deadline": _deadline_state(e["at"], due, now_iso) if due else None,
            }
        )
    deadlines = []
    if ticket["arrival_due_at"]:
        deadlines.append(
            {
                "kind": "arrival",
                "due": ticket["arrival_due_at"],
                "done_at": first_at.get("arrived"),
                "state": _deadline_state(first_at.get("arrived"), ticket["arrival_due_at"], now_iso),
            }
        )
    if ticket["due_at"]:
        done = first_at.get("handled") or first_at.get("closed")
        deadlines.append(
            {
                "kind": "handling",
                "due": ticket["due_at"],
                "done_at": done,
                "state": _deadline_state(done, ticket["due_at"], now_iso),
            }
        )
    fields = (
        "ticket_id",
        "source",
        "status",
        "route",
        "agency",
        "category",
        "request_type",
        "urgency",
        "location",
        "summary",
        "created_at",
        "updated_at",
        "due_at",
        "arrival_due_at",
        "overdue",
        "satisfaction",
    )
    doc = {k: ticket[k] for k in fields}
    full = _json(ticket["doc"], {})
    doc["kind"] = full.get("kind", "work_order") if isinstance(full, dict) else "work_order"
    doc["joint_agencies"] = _json(ticket["joint_agencies"], [])
    doc["events"] = out_events
    doc["deadlines"] = deadlines
    return doc


def load_incident(
    conn: sqlite3.Connection, user: User, incident_id: str, signer: Signer, now: float | None = None
) -> dict[str, Any]:
    """Everything the call page shows for ``incident_id`` as ``user`` may see it (caller checks access)."""
    from gateway.console.db import iso

    now_iso = iso(time.time() if now is None else now)
    hear = user.may_hear_recordings
    calls = conn.execute(
        "SELECT * FROM calls WHERE incident_id = ? ORDER BY started_at", (incident_id,)
    ).fetchall()
    recs = conn.execute(
        "SELECT * FROM recordings WHERE incident_id = ? ORDER BY created_at", (incident_id,)
    ).fetchall()
    trans = conn.execute(
        "SELECT * FROM transcripts WHERE incident_id = ? ORDER BY created_at", (incident_id,)
    ).fetchall()
    by_rec = {t["recording_id"]: t for t in trans if t["recording_id"]}
    legs: list[dict[str, Any]] = []
    triage = None
    for c in calls:
        caller = c["caller_e164"] or c["caller_raw"]
        legs.append(
            {
                "call_id": c["call_id"],
                "leg": c["leg"],
                "agent": c["agent"],
                "started_at": c["started_at"],
                "ended_at": c["ended_at"],
                "outcome": c["outcome"],
                "caller": mask_phone(caller) if caller and user.role == "agency" else caller,
                "recordings": [],
            }
        )
        if c["triage"] and triage is None:
            triage = _json(c["triage"], None)
    leg_by_call = {lg["call_id"]: lg for lg in legs}
    orphans: list[dict[str, Any]] = []
    for r in recs:
        entry: dict[str, Any] = {
            "recording_id": r["recording_id"],
            "leg": r["leg"],
            "side": r["side"],
            "duration_s": r["duration_s"],
            "created_at": r["created_at"],
            "deleted_at": r["deleted_at"],
            "url": None,
            "download_url": None,
            "transcript": None,
        }
        if not hear:
            entry["withheld"] = True
        else:
            if not r["deleted_at"]:
                entry["url"] = signer.url(r["recording_id"], user.user_id)
                entry["download_url"] = signer.url(r["recording_id"], user.user_id, download=True)
            t = by_rec.get(r["recording_id"])
            if t:
                entry["transcript"] = {
                    "text": t["text"],
                    "segments": normalise_segments(_json(t["segments"], [])),
                }
        target = leg_by_call.get(r["call_id"]) or next((lg for lg in legs if lg["leg"] == r["leg"]), None)
        (target["recordings"] if target else orphans).append(entry)
    if orphans:
        legs.append({"call_id": None, "leg": orphans[0]["leg"], "recordings": orphans})
    loose = (
        [
            {"text": t["text"], "segments": normalise_segments(_json(t["segments"], []))}
            for t in trans
            if not t["recording_id"]
        ]
        if hear
        else []
    )
    scope = "" if user.role != "agency" else " AND agency = ?"
    params: list[object] = [incident_id] + ([user.agency] if user.role == "agency" else [])
    tickets = conn.execute(
        f"SELECT * FROM tickets WHERE incident_id = ?{scope} ORDER BY created_at", params
    ).fetchall()
    if triage is None:
        for t in tickets:
            doc = _json(t["doc"], {})
            if isinstance(doc, dict) and doc.get("triage"):
                triage = doc["triage"]
                break
    return {
        "incident_id": incident_id,
        "legs": legs,
        "transcripts": loose,
        "triage": triage,
        "tickets": [ticket_timeline(conn, t, now_iso) for t in tickets],
        "may_hear": hear,
    }
