"""REDIS_URL forms: a Sentinel-managed primary followed through a real fail-over, a Cluster, and
clear errors for URLs the gateway cannot use."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from gateway.redisconn import RedisUrlError, from_url
from gateway.tickets import TicketService
from tests.conftest import free_port, redis_server_binary

DRAFT = {
    "incident_id": "I-sentinel",
    "source": "12345_direct",
    "caller": "13900001111",
    "agency": "power",
    "request_type": "help",
    "summary": "整栋楼停电",
}


@pytest.mark.parametrize(("url", "message"), [
    ("localhost:6379", "must look like"),
    ("http://127.0.0.1:6379", "scheme 'http'"),
    ("redis+sentinel://127.0.0.1:26379", "/<service>"),
    ("redis+sentinel://127.0.0.1:26379/lk/zero", "/<service>"),
    ("redis+sentinel://:s3cret-pw@127.0.0.1/lk", "is not host:port"),
    ("redis+cluster://127.0.0.1:7000/3", "only database 0"),
    ("redis+cluster://", "no host:port"),
])
def test_unusable_urls_are_refused_clearly(url, message):
    with pytest.raises(RedisUrlError, match=message) as err:
        from_url(url)
    assert "s3cret-pw" not in str(err.value)


def _server(args: list[str], workdir: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([redis_server_binary(), *args], cwd=workdir, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def _wait(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except redis.RedisError:
            pass
        time.sleep(0.1)
    raise AssertionError("condition not reached in time")


@pytest.fixture
def sentinel_set(tmp_path) -> Iterator[dict]:
    """A primary, its replica and one Sentinel (quorum 1, fast fail-over), all real processes."""
    primary, replica, sentinel = free_port(), free_port(), free_port()
    common = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    procs = {
        "primary": _server(["--port", str(primary), *common], tmp_path),
        "replica": _server(["--port", str(replica), "--replicaof", "127.0.0.1", str(primary), *common],
                           tmp_path),
    }
    conf = tmp_path / "sentinel.conf"
    conf.write_text(f"port {sentinel}\nbind 127.0.0.1\ndir {tmp_path}\n"
                    f"sentinel monitor lk 127.0.0.1 {primary} 1\n"
                    "sentinel down-after-milliseconds lk 500\nsentinel failover-timeout lk 3000\n")
    _wait(lambda: redis.Redis(port=replica).info("replication")["master_link_status"] == "up")
    procs["sentinel"] = _server([str(conf), "--sentinel"], tmp_path)
    _wait(lambda: redis.Redis(port=sentinel).sentinel_master("lk")["num-slaves"] >= 1)
    try:
        yield {"procs": procs, "ports": {"primary": primary, "replica": replica, "sentinel": sentinel}}
    finally:
        for p in procs.values():
            p.kill()
            p.wait()


def test_sentinel_primary_is_followed_through_a_failover(sentinel_set, config, tmp_path):
    ports, procs = sentinel_set["ports"], sentinel_set["procs"]
    client = from_url(f"redis+sentinel://127.0.0.1:{ports['sentinel']}/lk/0")
    svc = TicketService(client, config, spool_dir=tmp_path / "spool")
    first = svc.create({**DRAFT, "ticket_id": "T-before"})
    assert redis.Redis(port=ports["primary"]).wait(1, 2000) == 1  # the replica has it

    procs["primary"].kill()
    procs["primary"].wait()
    during = svc.create({**DRAFT, "ticket_id": "T-during"})  # no primary: spooled, not lost
    assert svc.spool.count() == 1
    assert svc.spool.count() == 1
    # the client asks the Sentinel for the primary on every new connection
    _wait(lambda: client.connection_pool.get_master_address()[1] == ports["replica"])
    after = svc.create({**DRAFT, "ticket_id": "T-after"})  # replays the spool first

    new_primary = redis.Redis(port=ports["replica"])
    assert new_primary.info("replication")["role"] == "master"
    for t in (first, during, after):
        got = svc.get(t.ticket_id)
        assert got is not None and got.agency == "power", t.ticket_id
    assert svc.spool.count() == 0
    assert client.connection_pool.get_master_address()[1] == ports["replica"]
