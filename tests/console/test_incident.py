"""The call page's data: transcript shapes, leg grouping, deadlines met or missed."""

from __future__ import annotations

import time

from gateway.console.incident import normalise_segments


def test_segments_in_either_shape_split_by_speaker():
    flat = [
        {"word": "你好", "start": 0, "end": 0.5, "speaker": "taker"},
        {"word": "我家", "start": 0.6, "end": 1.0, "speaker": "caller"},
        {"word": "停水", "start": 1.0, "end": 1.4, "speaker": "caller"},
        {"word": "bad", "start": "x", "end": 1},
        "junk",
    ]
    nested = [
        {"speaker": "taker", "words": [{"w": "你好", "start": 0, "end": 0.5}]},
        {
            "speaker": "caller",
            "words": [{"text": "我家", "start": 0.6, "end": 1.0}, {"word": "停水", "start": 1.0, "end": 1.4}],
        },
    ]
    for raw in (flat, nested, {"segments": nested}):
        segs = normalise_segments(raw)
        assert [(s["speaker"], [w["w"] for w in s["words"]]) for s in segs] == [
            ("taker", ["你好"]),
            ("caller", ["我家", "停水"]),
        ]
        assert segs[1]["start"] == 0.6 and segs[1]["end"] == 1.4
    assert normalise_segments("not json list") == []


def test_incident_timeline_marks_deadlines(server):
    a = server.archive
    now = time.time()
    a.call("c-1", "inc-1", triage={"route": "hotline", "agency": "water", "matched_terms": ["停水"]})
    a.ticket("t-1", "inc-1", created_at=now - 7200, arrival_due_at=now - 5400, due_at=now - 60)
    a.event("t-1", "created", now - 7200)
    a.event("t-1", "arrived", now - 6000)  # before the arrival deadline
    a.ticket("t-2", "inc-1", created_at=now - 7200, arrival_due_at=now - 5400, due_at=now + 3600)
    a.event("t-2", "arrived", now - 5000)  # after it
    data = server.login("boss").get(f"{server.base}/api/incidents/inc-1").json()
    assert data["triage"]["matched_terms"] == ["停水"]
    states = {t["ticket_id"]: {d["kind"]: d["state"] for d in t["deadlines"]} for t in data["tickets"]}
    assert states == {
        "t-1": {"arrival": "met", "handling": "missed"},
        "t-2": {"arrival": "missed", "handling": "pending"},
    }
    arrived = next(e for e in data["tickets"][0]["events"] if e["type"] == "arrived")
    assert arrived["deadline"] == "met"
    assert data["legs"][0]["caller"] == "+8613800138000"
