"""A real redis-server stopped mid-run: tickets spool to disk and replay, none lost or doubled."""

from __future__ import annotations

import redis

from gateway.agency import AgencyConsumer
from gateway.tickets import TicketService
from gateway.tickets.metrics import TICKETS_SPOOLED

DRAFT = {
    "incident_id": "I-s",
    "source": "overflow_ivr",
    "caller": "13900001111",
    "agency": "water",
    "request_type": "help",
    "summary": "水压低",
}


def test_redis_stopped_mid_run_spools_and_replays(own_redis, config, tmp_path):
    r = redis.Redis.from_url(own_redis.url)
    r.config_set("save", "3600 1")  # the restarted server keeps what it held (SIGTERM saves)
    svc = TicketService(r, config, spool_dir=tmp_path / "spool")
    created = []
    for i in range(150):
        if i == 50:
            own_redis.stop()
        if i == 100:
            own_redis.start()
        created.append(svc.create({**DRAFT, "ticket_id": f"T-{i:03d}"}))
        if 50 <= i < 100:
            assert svc.spool.count() == i - 49  # on disk, one file each
            assert TICKETS_SPOOLED._value.get() == i - 49
    # a caller retrying a spooled ticket after Redis returned: still one ticket
    svc.create({**DRAFT, "ticket_id": "T-060"})
    assert svc.spool.count() == 0 and TICKETS_SPOOLED._value.get() == 0
    ids = [t.ticket_id for t in created]
    assert ids == [f"T-{i:03d}" for i in range(150)]

    c = AgencyConsumer(r, config, "water", "w1")
    seen: list[str] = []
    while batch := c.read(count=100, block_ms=100):
        seen += [d.ticket.ticket_id for d in batch]
        c.ack(*batch)
    assert sorted(seen) == ids  # nothing lost, nothing doubled
    assert all(svc.get(i).status == "created" for i in ids)


def test_replay_after_crash_mid_replay_is_idempotent(own_redis, config, tmp_path):
    r = redis.Redis.from_url(own_redis.url)
    svc = TicketService(r, config, spool_dir=tmp_path / "spool")
    t = svc.build({**DRAFT, "ticket_id": "T-x"})
    svc._store([t])  # stored, but the process "crashed" before deleting its spool file
    svc.spool.put(t.ticket_id, t.to_json())
    assert svc.replay_spool() == 1
    assert r.xlen(svc.keys.queue("water")) == 1


def test_unreadable_spool_file_is_kept_aside_not_blocking(own_redis, config, tmp_path):
    r = redis.Redis.from_url(own_redis.url)
    svc = TicketService(r, config, spool_dir=tmp_path / "spool")
    svc.spool.put("T-bad", "{truncated")
    t = svc.build({**DRAFT, "ticket_id": "T-ok"})
    svc.spool.put(t.ticket_id, t.to_json())
    assert svc.replay_spool() == 1
    assert svc.get("T-ok") is not None and svc.spool.count() == 0
    assert [p.name.endswith("-T-bad.json") for p in (tmp_path / "spool" / "bad").iterdir()] == [True]
