"""The ticket, agency and report commands, end to end on a real Redis."""

from __future__ import annotations

import json

from click.testing import CliRunner

from gateway.cli import main


def run(config_dir, *args):
    res = CliRunner().invoke(main, ["--config", str(config_dir / "gateway.yaml"), *args])
    return res


def test_create_consume_work_report(redis_url, config_dir):
    res = run(
        config_dir,
        "ticket",
        "create",
        "--agency",
        "water",
        "--request-type",
        "咨询",
        "--caller",
        "13812345678",
        "--summary",
        "水费怎么交",
        "--json",
    )
    assert res.exit_code == 0, res.output
    t = json.loads(res.output)
    assert t["request_type"] == "consultation" and t["caller"]["e164"] == "+8613812345678"

    res = run(config_dir, "ticket", "create", "--agency", "nope", "--summary", "x")
    assert res.exit_code == 2 and "valid codes:" in res.output

    res = run(config_dir, "agency", "consume", "--agency", "water", "--count", "1", "--handle", "--json")
    assert res.exit_code == 0, res.output
    line = json.loads(res.output.splitlines()[0])
    assert line["ticket"]["ticket_id"] == t["ticket_id"] and line["posted"][-1] == "handled"

    from gateway.archive import Archive
    from gateway.config import load_config
    from gateway.redisconn import connect
    from gateway.tickets import TicketService
    from gateway.tickets.worker import GatewayWorker

    config = load_config(config_dir / "gateway.yaml")
    archive = Archive(config.archive_path)
    GatewayWorker(TicketService(connect(config), config, archive=archive), archive, "cli").run_once()

    res = run(config_dir, "ticket", "show", t["ticket_id"], "--json")
    doc = json.loads(res.output)
    assert doc["ticket"]["status"] == "handled"
    assert [e["type"] for e in doc["history"]] == ["created", "delivered", "accepted", "arrived", "handled"]
    res = run(config_dir, "ticket", "show", t["ticket_id"])
    assert "handled" in res.output and "arrived" in res.output

    res = run(config_dir, "agency", "feedback", t["ticket_id"], "--agency", "water", "--type", "closed")
    assert res.exit_code == 0 and "posted closed" in res.output

    res = run(config_dir, "report", "rates", "--json")
    [water] = json.loads(res.output)["agencies"]
    assert water["agency"] == "water" and water["response_rate"] == 1.0 and water["satisfaction_rate"] is None
    res = run(config_dir, "report", "rates")
    assert "water" in res.output and "100.0%" in res.output


def test_schema_check_command():
    res = CliRunner().invoke(main, ["ticket", "schema", "--check"])
    assert res.exit_code == 0 and "is current" in res.output


def test_worker_thread_applies_feedback_and_archives(redis_url, config):
    import time

    import redis

    from gateway.agency import AgencyConsumer
    from gateway.archive import Archive
    from gateway.tickets import TicketService
    from gateway.tickets.worker import start_worker_thread

    r = redis.Redis.from_url(redis_url)
    archive = Archive(config.archive_path)
    svc = TicketService(r, config, archive=archive)
    t = svc.create({"incident_id": "I", "source": "12345_direct", "agency": "power", "request_type": "help"})
    thread, stop = start_worker_thread(svc, archive, "t1")
    try:
        c = AgencyConsumer(r, config, "power", "p1")
        [d] = c.read(block_ms=500)
        c.post([c.event(d, "delivered"), c.event(d, "accepted")])
        c.ack(d)
        for _ in range(100):
            if [e["type"] for e in archive.history(t.ticket_id)][-1:] == ["accepted"]:
                break
            time.sleep(0.05)
        assert [e["type"] for e in archive.history(t.ticket_id)] == ["created", "delivered", "accepted"]
    finally:
        stop.set()
        thread.join(5)
    assert not thread.is_alive()
