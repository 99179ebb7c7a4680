"""Compose the gateway service: HTTP (console, APIs, health, metrics), tickets, telephony, loops."""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass, field
from typing import Any

from twisted.application import strports
from twisted.application.internet import TimerService
from twisted.application.service import MultiService
from twisted.web import resource
from twisted.web.server import Site

from gateway.archive import Archive
from gateway.config import Config
from gateway.logs import log
from gateway.redisconn import connect
from gateway.service.adapters import CallEventPublisher, IvrTranscriber, ThreadedTickets
from gateway.service.guard import LoginRequired
from gateway.service.health import HealthResource, MetricsResource
from gateway.service.loops import ThreadedLoop
from gateway.service.recordings import RecordingsOnHangup
from gateway.service.redis_monitor import RedisMonitor
from gateway.tickets import TicketService
from gateway.tickets.worker import GatewayWorker

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
    parts: dict[str, Any] = field(default_factory=dict)


def build_gateway(config: Config, *, name: str | None = None) -> Gateway:
    from twisted.internet import reactor, threads

    from gateway.console import build_console
    from gateway.console.offload import console_pool
    from gateway.telephony.service import build_telephony
    from gateway.triage import Classifier

    config.data_dir.mkdir(parents=True, exist_ok=True)
    name = name or f"gw-{socket.gethostname()}"
    top = MultiService()
    client = connect(config)
    monitor = RedisMonitor(client)
    monitor.setServiceParent(top)

    archive = Archive(config.archive_path)
    tickets = TicketService(client, config, archive)
    worker = GatewayWorker(tickets, archive, name)
    loop = ThreadedLoop("ticket-worker", worker.run_once, interval=0.5)
    loop.setServiceParent(top)

    classifier = Classifier.from_config(config)
    telephony = build_telephony(
        config,
        classify=lambda text: classifier.classify(text).to_dict(),
        tickets=ThreadedTickets(tickets),
        events=CallEventPublisher(client, archive, config.redis.key_prefix),
        transcribe=IvrTranscriber(config),
    )
    telephony.tracker.hangup_listeners.append(RecordingsOnHangup(config, client, archive))
    for svc in telephony.services:
        svc.setServiceParent(top)

    root = build_console(config)
    # recording retention: audio past recordings.retention_days deleted, its record kept; on the
    # console's worker thread, so file deletions and SQLite never run on the reactor
    TimerService(3600, lambda: threads.deferToThreadPool(
        reactor, console_pool(reactor), root.console.run_retention)).setServiceParent(top)
    probes = {
        "redis": monitor.state,
        "tickets": loop.state,
        "asterisk": lambda: {"ok": telephony.state()["ami_connected"], **telephony.state()},
    }
    root.putChild(b"healthz", HealthResource(probes, required={"redis"}))
    root.putChild(b"metrics", MetricsResource())
    root.putChild(b"calls", LoginRequired(telephony.http_resource(), root.app, {"supervisor", "call_taker"}))

    listen = config.gateway.http.listen
    strports.service(listen_spec(listen), Site(root)).setServiceParent(top)
    log(LOG, logging.INFO, "gateway configured", http=listen, fastagi=config.gateway.asterisk.fastagi.listen,
        ami=f"{config.gateway.asterisk.ami.host}:{config.gateway.asterisk.ami.port}",
        data_dir=str(config.data_dir))
    return Gateway(config=config, service=top, root=root, redis_monitor=monitor,
                   parts={"probes": probes, "tickets": tickets, "archive": archive, "telephony": telephony,
                          "classifier": classifier, "worker_loop": loop})
