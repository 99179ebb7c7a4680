"""The same ticket life on a real three-node Redis Cluster: every operation stays in one slot."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
import redis
from redis.cluster import RedisCluster

from gateway.agency import AgencyConsumer
from gateway.archive import Archive
from gateway.redisconn import from_url
from gateway.tickets import TicketService
from gateway.tickets.worker import GatewayWorker
from tests.conftest import free_port, redis_server_binary


def cluster_port() -> int:
    """A free port whose cluster-bus port (+10000) is valid and free too."""
    while True:
        port = free_port()
        if port + 10000 > 65535:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        return port


@pytest.fixture
def cluster(tmp_path) -> Iterator[RedisCluster]:
    ports = [cluster_port() for _ in range(3)]
    procs = []
    for port in ports:
        d = tmp_path / str(port)
        d.mkdir()
        procs.append(
            subprocess.Popen(
                [
                    redis_server_binary(),
                    "--port",
                    str(port),
                    "--bind",
                    "127.0.0.1",
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    "nodes.conf",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(d),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    try:
        nodes = [redis.Redis(port=p, socket_timeout=5, socket_connect_timeout=5) for p in ports]
        for n in nodes:
            for _ in range(200):
                try:
                    n.ping()
                    break
                except redis.ConnectionError:
                    time.sleep(0.02)
        step = 16384 // 3
        for i, n in enumerate(nodes):  # what redis-cli --cluster create does, by hand
            n.execute_command("CLUSTER ADDSLOTSRANGE", i * step, 16383 if i == 2 else (i + 1) * step - 1)
        for p in ports[1:]:
            nodes[0].execute_command("CLUSTER MEET", "127.0.0.1", p)
        deadline = time.monotonic() + 30  # gossip: every node must see all slots covered (slow when busy)
        while not all(n.execute_command("CLUSTER INFO").get("cluster_state") == "ok" for n in nodes):
            if time.monotonic() > deadline:
                raise RuntimeError("the test cluster did not form in 30 s")
            time.sleep(0.02)
        # as `linkage run` builds it from REDIS_URL
        client = from_url(f"redis+cluster://127.0.0.1:{ports[0]},127.0.0.1:{ports[1]}")
        assert isinstance(client, RedisCluster)
        yield client
        client.close()
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)


def test_ticket_life_on_a_cluster(cluster, config, tmp_path):
    archive = Archive(tmp_path / "a.sqlite3")
    svc = TicketService(cluster, config, archive=archive, spool_dir=tmp_path / "spool")
    draft = {"incident_id": "I", "source": "12345_direct", "request_type": "help"}
    made = svc.create_many([{**draft, "agency": a} for a in ("water", "gas", "housing", "water")])
    assert (
        svc.create({**draft, "agency": "water", "ticket_id": made[0].ticket_id}).ticket_id
        == made[0].ticket_id
    )
    slots = {cluster.keyslot(svc.keys.queue(a)) for a in ("water", "gas", "housing")}
    assert len(slots) == 3  # the agencies really live in different slots
    c = AgencyConsumer(cluster, config, "water", "c1")
    got = c.read(count=10, block_ms=200)
    assert sorted(d.ticket.ticket_id for d in got) == sorted([made[0].ticket_id, made[3].ticket_id])
    c.post(
        [
            c.event(got[0], "delivered"),
            c.event(got[0], "accepted"),
            c.event(got[0], "arrived", scene_report="到场"),
            c.event(got[0], "handled", result="ok"),
        ]
    )
    c.post([c.event(got[1], "delivered"), c.event(got[1], "returned", reason="燃气表", reroute_to="gas")])
    c.ack(*got)
    worker = GatewayWorker(svc, archive, "w1")
    worker.run_once()
    first, moved = got[0].ticket.ticket_id, got[1].ticket.ticket_id
    assert svc.get(first).status == "handled"
    assert svc.get(moved).agency == "gas" and svc.get(moved).status == "created"
    gas = AgencyConsumer(cluster, config, "gas", "g1").read(count=10, block_ms=200)
    assert moved in {d.ticket.ticket_id for d in gas}
    assert worker.archiver.trim(force=True) > 0
    assert [e["type"] for e in archive.history(first)] == [
        "created",
        "delivered",
        "accepted",
        "arrived",
        "handled",
    ]
    assert [e["type"] for e in archive.history(moved)] == ["created", "delivered", "returned", "rerouted"]
