"""Compose the gateway service: HTTP (health, metrics, console, APIs), Redis, telephony, workers."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from twisted.application import strports
from twisted.application.service import MultiService
from twisted.web import resource
from twisted.web.server import Site

from gateway.config import Config
from gateway.logs import log
from gateway.redisconn import connect
from gateway.service.health import HealthResource, MetricsResource
from gateway.service.redis_monitor import RedisMonitor

LOG = logging.getLogger(__name__)


def listen_spec(hostport: str) -> str:
    host, _, port = hostport.rpartition(":")
    host = host.strip("[]").replace(":", r"\:")
    return f"tcp:{port}:interface={host}"


@dataclass
class Gateway:
    """The running parts, kept for tests and for the health page."""

    config: Config
    service: MultiService
    root: resource.Resource
    redis_monitor: RedisMonitor
    parts: dict[str, object] = field(default_factory=dict)


def build_gateway(config: Config) -> Gateway:
    config.data_dir.mkdir(parents=True, exist_ok=True)
    top = MultiService()
    client = connect(config)
    monitor = RedisMonitor(client)
    monitor.setServiceParent(top)

    probes = {"redis": monitor.state}
    root = resource.Resource()
    root.putChild(b"healthz", HealthResource(probes, required={"redis"}))
    root.putChild(b"metrics", MetricsResource())

    listen = config.gateway.http.listen
    strports.service(listen_spec(listen), Site(root)).setServiceParent(top)
    log(LOG, logging.INFO, "gateway configured", http=listen, data_dir=str(config.data_dir))
    return Gateway(config=config, service=top, root=root, redis_monitor=monitor, parts={"probes": probes})
