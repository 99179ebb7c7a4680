"""A water ticket through a real Redis: consumer group, ack, feedback through the states."""

from __future__ import annotations

import json

import pytest
import redis

from gateway.agency import AgencyConsumer
from gateway.archive import Archive
from gateway.archive.archiver import Archiver
from gateway.feedback import FeedbackWorker
from gateway.tickets import InvalidTransition, TicketService, UnknownAgency
from gateway.tickets.keys import FEEDBACK_GROUP, QUEUE_GROUP

DRAFT = {
    "incident_id": "I-1",
    "source": "12345_direct",
    "caller": "138 1234 5678",
    "location": "幸福路 3 号",
    "route": "hotline",
    "agency": "water",
    "category": "no_water",
    "request_type": "求助",
    "summary": "家里停水两天",
    "keywords": ["停水"],
}


@pytest.fixture
def r(redis_url):
    return redis.Redis.from_url(redis_url)


@pytest.fixture
def archive(config):
    a = Archive(config.archive_path)
    yield a
    a.close()


@pytest.fixture
def svc(r, config, archive, tmp_path):
    return TicketService(r, config, archive=archive, spool_dir=tmp_path / "spool")


def test_water_ticket_read_acked_and_moved_through_states(svc, r, config, archive):
    t = svc.create(DRAFT)
    assert t.agency == "water" and t.status == "created" and t.request_type == "help"
    assert t.caller.e164 == "+8613812345678" and t.caller.valid
    assert t.deadlines.working_days == 3 and t.deadlines.due_at
    assert svc.create({**DRAFT, "ticket_id": t.ticket_id}).ticket_id == t.ticket_id
    assert r.xlen(svc.keys.queue("water")) == 1  # same id twice is one ticket

    c = AgencyConsumer(r, config, "water", "w1")
    [d] = c.read(count=10, block_ms=100)
    assert d.ticket.ticket_id == t.ticket_id
    assert c.pending() == 1
    c.post([c.event(d, "delivered"), c.event(d, "accepted")])
    c.ack(d)
    assert c.pending() == 0

    worker = FeedbackWorker(svc, "g1")
    assert worker.run_once() == 1
    assert svc.get(t.ticket_id).status == "accepted"
    c.post(
        [
            c.event(d, "arrived", scene_report="阀门损坏, 正在抢修"),
            c.event(d, "handled", result="已修复"),
            c.event(d, "closed"),
            c.event(d, "rated", satisfaction="satisfied"),
        ]
    )
    c.post([c.event(d, "handled", result="again")])  # a repeat (same id): harmless
    worker.run_once()
    done = svc.get(t.ticket_id)
    assert done.status == "closed" and done.satisfaction == "satisfied"
    assert r.xpending(svc.keys.feedback("water"), FEEDBACK_GROUP)["pending"] == 0

    Archiver(r, config, archive, "a1").run_once()
    types = [e["type"] for e in archive.history(t.ticket_id)]
    assert types == ["created", "delivered", "accepted", "arrived", "handled", "closed", "rated"]
    assert archive.get_ticket(t.ticket_id)["status"] == "closed"
    [water] = [x for x in archive.rates() if x["agency"] == "water"]
    assert (
        water["response_rate"] == 1.0
        and water["resolution_rate"] == 1.0
        and water["satisfaction_rate"] == 1.0
    )


def test_unknown_agency_names_valid_codes(svc):
    with pytest.raises(UnknownAgency, match=r"unknown agency 'waterworks'; valid codes: .*water"):
        svc.create({**DRAFT, "agency": "waterworks"})


def test_impossible_transition_rejected_and_recorded(svc, r, config, archive):
    t = svc.create(DRAFT)
    with pytest.raises(InvalidTransition, match="cannot apply 'handled' in status 'created'"):
        svc.apply_feedback({"event_id": "e1", "ticket_id": t.ticket_id, "type": "handled"})
    assert svc.get(t.ticket_id).status == "created"
    Archiver(r, config, archive, "a1").run_once()
    [ev] = [e for e in archive.history(t.ticket_id) if e["type"] == "rejected_transition"]
    assert (
        ev["data"]["attempted"] == "handled" and "allowed only from accepted, arrived" in ev["data"]["error"]
    )


def test_consumer_killed_after_reading_leaves_pending_and_second_claims(svc, r, config):
    t = svc.create(DRAFT)
    dead = AgencyConsumer(r, config, "water", "dies")
    assert len(dead.read(block_ms=100)) == 1  # reads, then "dies" without ack
    info = r.xpending_range(svc.keys.queue("water"), QUEUE_GROUP, "-", "+", 10)
    assert [x["consumer"] for x in info] == [b"dies"]
    second = AgencyConsumer(r, config, "water", "second")
    assert second.read(block_ms=50) == [] or True  # nothing new to read
    [again] = second.claim(min_idle_ms=0)
    assert again.ticket.ticket_id == t.ticket_id and again.claimed
    info = r.xpending_range(svc.keys.queue("water"), QUEUE_GROUP, "-", "+", 10)
    assert [x["consumer"] for x in info] == [b"second"]
    second.ack(again)
    assert second.pending() == 0


def test_returned_ticket_is_rerouted(svc, r, config, archive):
    t = svc.create(DRAFT)
    c = AgencyConsumer(r, config, "water", "w1")
    [d] = c.read(block_ms=100)
    c.post(
        [
            c.event(d, "delivered"),
            c.event(d, "returned", reason="产权属物业, 非供水管网", reroute_to="housing"),
        ]
    )
    c.ack(d)
    FeedbackWorker(svc, "g1").run_once()
    moved = svc.get(t.ticket_id)
    assert moved.agency == "housing" and moved.status == "created" and moved.previous_agencies == ["water"]
    c.post([c.event(d, "accepted")])  # water, too late: the ticket is housing's now
    FeedbackWorker(svc, "g1").run_once()
    assert svc.get(t.ticket_id).status == "created"
    h = AgencyConsumer(r, config, "housing", "h1")
    [hd] = h.read(block_ms=100)
    assert hd.ticket.ticket_id == t.ticket_id and hd.ticket.hop == 1
    # a return without a valid target goes to the 12345 desk, never dropped
    h.post([h.event(hd, "delivered"), h.event(hd, "returned", reason="不属本单位职责")])
    FeedbackWorker(svc, "g1").run_once()
    assert svc.get(t.ticket_id).agency == "hotline"
    late = {"event_id": "h-late", "ticket_id": t.ticket_id, "type": "accepted"}  # no hop: agency check
    r.xadd(svc.keys.feedback("housing"), {"event": json.dumps(late)})
    FeedbackWorker(svc, "g1").run_once()
    Archiver(r, config, archive, "a1").run_once()
    types = [e["type"] for e in archive.history(t.ticket_id)]
    assert types.count("rerouted") == 2 and types.count("returned") == 2
    late, other = [e for e in archive.history(t.ticket_id) if e["type"] == "rejected_transition"]
    assert "the update is about routing #0; the ticket is at routing #1" in late["data"]["error"]
    assert "now with hotline; housing's update does not apply" in other["data"]["error"]
    assert archive.get_ticket(t.ticket_id)["agency"] == "hotline"


def test_bad_event_dead_lettered_with_reason(svc, r, config):
    t = svc.create(DRAFT)
    fb = svc.keys.feedback("water")
    worker = FeedbackWorker(svc, "g1")
    r.xadd(fb, {"event": "{not json"})
    r.xadd(fb, {"event": json.dumps({"event_id": "x", "ticket_id": "T-nope", "type": "accepted"})})
    r.xadd(fb, {"event": json.dumps({"event_id": "y", "ticket_id": t.ticket_id, "type": "teleported"})})
    worker.run_once()
    dead = r.xrange(svc.keys.dead("water"))
    reasons = [f[b"reason"].decode() for _, f in dead]
    assert len(reasons) == 3
    assert "unreadable feedback entry" in reasons[0]
    assert "unknown ticket 'T-nope'" in reasons[1]
    assert "unknown feedback type 'teleported'" in reasons[2]
    assert r.xpending(fb, FEEDBACK_GROUP)["pending"] == 0
    assert svc.get(t.ticket_id).status == "created"


def test_poison_ticket_entry_dead_lettered_after_max_deliveries(svc, r, config):
    svc.create(DRAFT)
    q = svc.keys.queue("water")
    for i in range(config.redis.max_deliveries):
        c = AgencyConsumer(r, config, "water", f"c{i}")
        got = c.read(block_ms=50, claim_every_s=0) if i == 0 else c.claim(min_idle_ms=0)
        assert len(got) == 1  # each consumer "crashes" on it
    last = AgencyConsumer(r, config, "water", "last")
    assert last.claim(min_idle_ms=0) == []
    [(_, f)] = r.xrange(svc.keys.dead("water"))
    assert b"max_deliveries" in f[b"reason"] and f[b"stream"] == q.encode()
    assert r.xpending(q, QUEUE_GROUP)["pending"] == 0


def test_out_of_order_update_waits_for_its_predecessor(svc, r, config, archive):
    t = svc.create(DRAFT)
    c = AgencyConsumer(r, config, "water", "w1")
    [d] = c.read(block_ms=100)
    c.post([c.event(d, "delivered")])
    worker = FeedbackWorker(svc, "g1")
    worker.run_once()
    c.post([c.event(d, "handled", result="ok")])  # before "accepted": e.g. read by another worker first
    worker.run_once()
    assert svc.get(t.ticket_id).status == "delivered"
    assert r.xpending(svc.keys.feedback("water"), FEEDBACK_GROUP)["pending"] == 1  # kept, not rejected
    c.post([c.event(d, "accepted")])
    worker.run_once()
    assert svc.get(t.ticket_id).status == "accepted"
    assert worker.claim() == 0  # not idle long enough yet
    r.xclaim(
        svc.keys.feedback("water"),
        FEEDBACK_GROUP,
        "g1",
        0,
        [r.xpending_range(svc.keys.feedback("water"), FEEDBACK_GROUP, "-", "+", 1)[0]["message_id"]],
        idle=10**7,
    )
    assert worker.claim() == 1
    assert svc.get(t.ticket_id).status == "handled"
    Archiver(r, config, archive, "a1").run_once()
    types = [e["type"] for e in archive.history(t.ticket_id)]
    assert types == ["created", "delivered", "accepted", "handled"]


def test_crash_in_the_middle_of_a_reroute_is_completed_by_the_repeat(svc, r, config, monkeypatch):
    t = svc.create(DRAFT)
    c = AgencyConsumer(r, config, "water", "w1")
    [d] = c.read(block_ms=100)
    c.post([c.event(d, "delivered"), c.event(d, "returned", reason="非本单位", reroute_to="municipal")])
    worker = FeedbackWorker(svc, "g1")
    real = svc._finish_reroute

    def crash(*a, **k):
        raise SystemExit("killed between the tombstone and the new copy")

    monkeypatch.setattr(svc, "_finish_reroute", crash)
    with pytest.raises(SystemExit):
        worker.run_once()
    assert r.xlen(svc.keys.queue("municipal")) == 0 and svc.where(t.ticket_id) == "water"
    monkeypatch.setattr(svc, "_finish_reroute", real)
    fb = svc.keys.feedback("water")
    [p] = r.xpending_range(fb, FEEDBACK_GROUP, "-", "+", 10)  # the entry was not acked
    r.xclaim(fb, FEEDBACK_GROUP, "g1", 0, [p["message_id"]], idle=10**7)
    assert worker.claim() == 1
    moved = svc.get(t.ticket_id)
    assert moved.agency == "municipal" and moved.status == "created"
    assert r.xlen(svc.keys.queue("municipal")) == 1
    assert r.xpending(fb, FEEDBACK_GROUP)["pending"] == 0


def test_metrics_counted(svc, r, config):
    from prometheus_client import REGISTRY

    def val(name, **labels):
        return REGISTRY.get_sample_value(name, labels) or 0

    before = val("linkage_tickets_created_total", agency="gas")
    t = svc.create({**DRAFT, "agency": "gas"})
    svc.create({**DRAFT, "agency": "gas", "ticket_id": t.ticket_id})  # a repeat is not counted
    assert val("linkage_tickets_created_total", agency="gas") == before + 1
    d0 = val("linkage_tickets_delivered_total", agency="gas")
    svc.apply_feedback({"event_id": "m1", "ticket_id": t.ticket_id, "type": "delivered"})
    assert val("linkage_tickets_delivered_total", agency="gas") == d0 + 1
    from gateway.archive import Archive
    from gateway.tickets.worker import GatewayWorker

    GatewayWorker(svc, Archive(config.archive_path), "m").refresh_metrics()
    assert val("linkage_tickets_pending", agency="gas") == 1  # queued, not yet read by gas
    assert val("linkage_redis_up") in (0, 1)


def test_bad_drafts_get_clear_errors(svc):
    from gateway.tickets import TicketError

    with pytest.raises(TicketError, match=r"source: Input should be '110_transfer'"):
        svc.build({**DRAFT, "source": "fax"})
    with pytest.raises(TicketError, match="created_at 'yesterday' is not an ISO time"):
        svc.build({**DRAFT, "created_at": "yesterday"})
    with pytest.raises(TicketError, match=r"unknown draft keys \['colour'\]"):
        svc.build({**DRAFT, "colour": "red"})
    with pytest.raises(TicketError, match=r"recordings\.0\.recording_id: Field required"):
        svc.build({**DRAFT, "recordings": [{"path": "a.wav"}]})
    with pytest.raises(TicketError, match="incident_id is required"):
        svc.build({**DRAFT, "incident_id": ""})
    with pytest.raises(UnknownAgency, match="unknown joint agency 'fbi'"):
        svc.build({**DRAFT, "joint_agencies": ["fbi"]})
    t = svc.build({**DRAFT, "caller": "not a number"})  # accepted, flagged
    assert t.caller.raw == "not a number" and not t.caller.valid
    fire = svc.build(
        {"incident_id": "I", "source": "110_transfer", "route": "fire", "joint_agencies": ["gas"]}
    )
    assert fire.agency == "fire" and fire.urgency == "emergency" and fire.deadlines.handover_due_at


def test_entry_with_an_impossible_update_in_the_middle(svc, r, config, archive):
    t = svc.create(DRAFT)
    c = AgencyConsumer(r, config, "water", "w1")
    [d] = c.read(block_ms=100)
    c.post([c.event(d, "delivered"), c.event(d, "closed"), c.event(d, "accepted")])
    worker = FeedbackWorker(svc, "g1")
    worker.run_once()
    assert svc.get(t.ticket_id).status == "delivered"  # "closed" may still be early: the entry waits
    fb = svc.keys.feedback("water")
    [p] = r.xpending_range(fb, FEEDBACK_GROUP, "-", "+", 10)
    r.xclaim(fb, FEEDBACK_GROUP, "g1", 0, [p["message_id"]], idle=10**7)
    assert worker.claim() == 1  # second delivery: "closed" is rejected, the rest applied
    assert svc.get(t.ticket_id).status == "accepted"
    assert r.xpending(fb, FEEDBACK_GROUP)["pending"] == 0
    Archiver(r, config, archive, "a1").run_once()
    types = [e["type"] for e in archive.history(t.ticket_id)]
    assert types == ["created", "delivered", "rejected_transition", "accepted"]
