"""The published JSON Schema is current; archive writers, escalation (督办) and trimming."""

from __future__ import annotations

import json

import jsonschema
import pytest
import redis

from gateway.agency import AgencyConsumer
from gateway.archive import Archive
from gateway.archive.archiver import Archiver
from gateway.feedback import FeedbackWorker
from gateway.tickets import TicketError, TicketService
from gateway.tickets.model import SCHEMA_PATH, Ticket, schema_text

DRAFT = {
    "incident_id": "I-a",
    "source": "110_transfer",
    "caller": "010-12345678",
    "agency": "market",
    "request_type": "complaint",
    "summary": "缺斤少两",
    "recordings": ["rec-1"],
}


def test_published_schema_is_current_and_validates_tickets(config, tmp_path):
    assert SCHEMA_PATH.read_text(encoding="utf-8") == schema_text(), "run: linkage ticket schema"
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    svc = TicketService(redis.Redis(port=1), config, spool_dir=tmp_path)  # build() needs no Redis
    doc = svc.build(DRAFT).model_dump(mode="json")
    jsonschema.validate(doc, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**doc, "source": "fax"}, schema)
    assert doc["kind"] == "work_order" and doc["schema_version"] == 2


def test_callback_kind_is_a_field_and_version_1_documents_still_read(config, tmp_path):
    svc = TicketService(redis.Redis(port=1), config, spool_dir=tmp_path)
    ticket = svc.build({**DRAFT, "kind": "callback"})
    assert ticket.kind == "callback" and ticket.summary == DRAFT.get("summary", "")
    with pytest.raises(TicketError, match="kind"):
        svc.build({**DRAFT, "kind": "fax_back"})
    v1 = ticket.model_dump(mode="json")
    del v1["kind"]
    v1["schema_version"] = 1
    assert Ticket.model_validate(v1).kind == "work_order"


@pytest.fixture
def archive(config):
    a = Archive(config.archive_path)
    yield a
    a.close()


def test_call_writers_are_idempotent(archive):
    ev = {
        "incident_id": "I-1",
        "call_id": "c1",
        "type": "start",
        "at": "2026-11-23T10:00:00.000Z",
        "leg": "110",
    }
    assert archive.record_call_event(ev) and not archive.record_call_event(ev)
    archive.record_call("c1", "I-1", "110", caller_raw="13812345678", started_at="2026-11-23T10:00:00.000Z")
    archive.record_call("c1", "I-1", "110", outcome="transferred")
    row = archive.db.execute("SELECT caller_raw, outcome FROM calls WHERE call_id='c1'").fetchone()
    assert tuple(row) == ("13812345678", "transferred")
    archive.record_recording("r1", "I-1", "110", "mix", "2026/11/23/r1.wav", duration_s=12.5)
    assert archive.db.execute("SELECT count(*) FROM recordings").fetchone()[0] == 1
    with pytest.raises(ValueError, match="incident_id and type"):
        archive.record_call_event({"type": "start"})


def test_overdue_tickets_escalated_once(redis_url, config, archive, tmp_path):
    r = redis.Redis.from_url(redis_url)
    svc = TicketService(r, config, archive=archive, spool_dir=tmp_path / "s")
    late = svc.create({**DRAFT, "created_at": "2026-09-01T02:00:00Z"})
    fresh = svc.create({**DRAFT, "ticket_id": "T-fresh"})
    em = svc.create(
        {
            "incident_id": "I-e",
            "source": "12345_direct",
            "route": "fire",
            "summary": "燃气泄漏",
            "created_at": "2026-11-23T01:00:00Z",
        }
    )
    Archiver(r, config, archive, "a").run_once()
    new = archive.escalate_overdue(now="2026-11-23T02:00:00.000Z")
    got = {(e["ticket_id"], e["data"]["deadline"]) for e in new}
    assert got == {(late.ticket_id, "work_order"), (em.ticket_id, "handover"), (em.ticket_id, "arrival")}
    assert archive.escalate_overdue(now="2026-11-23T02:00:00.000Z") == []  # once
    assert archive.overdue_count() == 2
    assert fresh.ticket_id not in {e["ticket_id"] for e in new}
    assert "escalated" in [e["type"] for e in archive.history(late.ticket_id)]


def test_streams_trimmed_only_below_what_the_archive_holds(redis_url, config, archive, tmp_path):
    r = redis.Redis.from_url(redis_url)
    svc = TicketService(r, config, archive=archive, spool_dir=tmp_path / "s")
    ids = [t.ticket_id for t in svc.create_many([{**DRAFT, "ticket_id": f"T{i}"} for i in range(20)])]
    c = AgencyConsumer(r, config, "market", "m1")
    batch = c.read(count=10, block_ms=100)
    for d in batch:
        c.post([c.event(d, "delivered")])
    c.ack(*batch)
    FeedbackWorker(svc, "g").run_once()
    arch = Archiver(r, config, archive, "a")
    q, ev = svc.keys.queue("market"), svc.keys.events("market")
    arch.trim(force=True)  # nothing archived yet: nothing trimmed
    assert r.xlen(q) == 20 and r.xlen(ev) == 30
    import time

    time.sleep(0.005)
    arch.run_once()
    r.xadd(ev, {"event": json.dumps({"event_id": "late", "ticket_id": "T0", "type": "closed"})})  # unarchived
    arch.trim(force=True)
    assert r.xlen(ev) == 1  # only the unarchived entry is left
    assert r.xlen(q) == 10  # the 10 unread tickets stay
    assert sorted(d.ticket.ticket_id for d in c.read(count=20, block_ms=100)) == sorted(ids[10:])
    assert archive.db.execute("SELECT count(*) FROM ticket_events").fetchone()[0] == 30
