"""Wires the telephony stage: ``build_telephony(config, classify=, tickets=, events=, transcribe=)``.

Returns a :class:`Telephony` whose ``services`` the lead adds to the application (FastAGI listener
on ``asterisk.fastagi.listen``; AMI client reconnecting to ``asterisk.ami``), whose
``http_resource()`` serves ``POST /calls/{id}/transfer-to-12345``, and whose ``state()`` feeds
``/healthz``.
"""

from __future__ import annotations

from typing import Any

from twisted.application.internet import StreamServerEndpointService
from twisted.application.service import IService
from twisted.internet.endpoints import TCP4ClientEndpoint
from twisted.web.resource import Resource

from gateway.telephony.agi.server import FastAGIFactory, HandlerRegistry
from gateway.telephony.agi.transport import EagerTCPServerEndpoint
from gateway.telephony.agi_handlers import OverflowHandlers
from gateway.telephony.ami.client import AmiClient, AmiService
from gateway.telephony.calls import CallTracker
from gateway.telephony.events import CallEvents
from gateway.telephony.handover import HandoverManager, HandoverSettings
from gateway.telephony.http import CallsResource
from gateway.telephony.overflow import Screening


class Telephony:
    """The assembled stage (each part reachable for tests and the lead)."""

    def __init__(self, *, ami: AmiClient, agi_factory: FastAGIFactory, tracker: CallTracker,
                 handover: HandoverManager, events: CallEvents, services: list[IService]):
        self.ami = ami
        self.agi_factory = agi_factory
        self.tracker = tracker
        self.handover = handover
        self.events = events
        self.services = services

    def http_resource(self) -> Resource:
        return CallsResource(self.handover)

    def state(self) -> dict[str, Any]:
        ami = self.ami.state()
        return {
            "ami": "connected" if ami["connected"] else "disconnected",
            "ami_connected": ami["connected"], "ami_last_error": ami["last_error"],
            "ami_events_total": ami["events_total"],
            **self.agi_factory.state(), "calls_live": len(self.tracker.calls),
            **self.handover.state(), "events_publish_failed": self.events.failed,
        }


def _hostport(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    return host, int(port)


def build_telephony(config: Any, *, classify: Any, tickets: Any, events: Any, transcribe: Any,
                    reactor: Any = None) -> Telephony:
    if reactor is None:
        from twisted.internet import reactor
    ast = config.gateway.asterisk
    call_events = CallEvents(events)
    tracker = CallTracker(call_events)
    endpoint = TCP4ClientEndpoint(reactor, ast.ami.host, ast.ami.port, timeout=ast.ami.connect_timeout_s)
    ami = AmiClient(endpoint, ast.ami.username, ast.ami.secret, clock=reactor, events=ast.ami.events,
                    ping_interval_s=ast.ami.ping_interval_s, action_timeout_s=ast.ami.action_timeout_s,
                    reconnect_initial_s=ast.ami.reconnect_initial_s,
                    reconnect_max_s=ast.ami.reconnect_max_s)
    handover = HandoverManager(ami, tracker, call_events, tickets, HandoverSettings.from_config(config),
                               clock=reactor)
    ami.on("*", tracker.handle)
    ami.on("*", handover.handle)
    ami.on_resync(handover.resync)

    registry = HandlerRegistry()
    screening = Screening(transcribe=transcribe, classify=classify, tickets=tickets,
                          hours_12345=ast.overflow.hours_12345)
    OverflowHandlers(screening, call_events, config.recordings_dir / ast.overflow.recordings_subdir,
                     max_record_s=ast.overflow.max_record_s, silence_s=ast.overflow.silence_s,
                     allowed_root=config.recordings_dir).register(registry)
    agi_factory = FastAGIFactory(registry, max_connections=ast.fastagi.max_connections,
                                 command_timeout_s=ast.fastagi.command_timeout_s, reactor=reactor)
    host, port = _hostport(ast.fastagi.listen)
    endpoint = EagerTCPServerEndpoint(reactor, port, interface=host)
    agi_service = StreamServerEndpointService(endpoint, agi_factory)
    agi_service.setName("fastagi")
    agi_service._raiseSynchronously = True  # a busy port fails start-up, as strports' services do
    return Telephony(ami=ami, agi_factory=agi_factory, tracker=tracker, handover=handover,
                     events=call_events, services=[agi_service, AmiService(ami)])
