"""FastAGI server factory: routes each connection by ``agi_network_script`` to a small handler."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from types import CoroutineType
from typing import Any

from twisted.internet import defer
from twisted.internet.protocol import ServerFactory
from twisted.internet.task import LoopingCall
from twisted.python.failure import Failure

from gateway.logs import log
from gateway.telephony.agi.errors import AgiError
from gateway.telephony.agi.protocol import FastAGIProtocol
from gateway.telephony.agi.session import AgiSession

LOG = logging.getLogger("gateway.telephony.agi")
Handler = Callable[[AgiSession], Any]
SLOW_HANDLER_S = 0.05


class HandlerRegistry:
    """Script name → handler (Wazo style). A handler may return a Deferred or be ``async``."""

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}

    def register(self, name: str, handler: Handler | None = None) -> Any:
        def add(fn: Handler) -> Handler:
            if name in self._handlers:
                raise ValueError(f"an AGI handler is already registered for {name!r}")
            self._handlers[name] = fn
            return fn

        return add(handler) if handler is not None else add

    def get(self, name: str) -> Handler | None:
        return self._handlers.get(name)

    def names(self) -> list[str]:
        return sorted(self._handlers)


class FastAGIFactory(ServerFactory):
    """Builds one :class:`FastAGIProtocol` per connection, up to ``max_connections`` at a time."""

    def __init__(self, registry: HandlerRegistry, *, max_connections: int = 200,
                 command_timeout_s: float = 30.0, reactor: Any = None, clock: Any = None):
        if reactor is None:
            from twisted.internet import reactor as default_reactor

            reactor = default_reactor
        self.registry = registry
        self.max_connections = max_connections
        self.command_timeout_s = command_timeout_s
        self.reactor = reactor
        self.clock = clock or reactor
        self.active: set[FastAGIProtocol] = set()
        self._sweeper: LoopingCall | None = None
        self.sweep_interval_s = min(1.0, command_timeout_s / 4)
        self.sessions_total = 0
        self.rejected_total = 0
        self.failed_total = 0

    def buildProtocol(self, addr: Any) -> FastAGIProtocol | None:
        if len(self.active) >= self.max_connections:
            self.rejected_total += 1
            if self.rejected_total == 1 or self.rejected_total % 100 == 0:
                log(LOG, logging.WARNING, "FastAGI connection limit reached, refusing",
                    limit=self.max_connections, rejected_total=self.rejected_total)
            return None
        proto = FastAGIProtocol(self)
        self.active.add(proto)
        if self._sweeper is None:
            self._sweeper = LoopingCall(self._sweep)
            self._sweeper.clock = self.clock
            self._sweeper.start(self.sweep_interval_s, now=False)
        return proto

    def session_ended(self, proto: FastAGIProtocol) -> None:
        self.active.discard(proto)

    def stopFactory(self) -> None:
        """The listening port closed: stop the timeout sweeper (started by the first connection)."""
        if self._sweeper is not None and self._sweeper.running:
            self._sweeper.stop()
        self._sweeper = None

    def _sweep(self) -> None:
        """One timer for all sessions: time out any environment block or command past its deadline."""
        now = self.clock.seconds()
        for proto in [p for p in self.active if p.deadline is not None and p.deadline <= now]:
            proto.expired()

    def state(self) -> dict[str, int]:
        return {"agi_sessions": len(self.active), "agi_sessions_total": self.sessions_total,
                "agi_rejected_total": self.rejected_total, "agi_failed_total": self.failed_total}

    def start_session(self, proto: FastAGIProtocol) -> None:
        """Called once the environment block is complete: run the routed handler."""
        self.sessions_total += 1
        session = AgiSession(proto)
        handler = self.registry.get(session.script)
        if handler is None:
            log(LOG, logging.WARNING, "no FastAGI handler for script", script=session.script,
                uniqueid=session.uniqueid)
            d = session.set_variable("LINKAGE_AGI_ERROR", f"no handler for {session.script}")
            d.addBoth(lambda _: proto.close())
            return
        started = time.perf_counter()
        try:
            result = handler(session)
            if isinstance(result, CoroutineType):
                result = defer.ensureDeferred(result)
            d = defer.maybeDeferred(lambda: result)
        except Exception:
            d = defer.fail(Failure())
        spent = time.perf_counter() - started
        if spent > SLOW_HANDLER_S:
            log(LOG, logging.WARNING, "FastAGI handler blocked the reactor; use session.blocking()",
                script=session.script, blocked_ms=round(spent * 1000))
        d.addCallbacks(lambda _: proto.close(), lambda f: self._handler_failed(f, session, proto))

    def _handler_failed(self, failure: Failure, session: AgiSession, proto: FastAGIProtocol) -> None:
        self.failed_total += 1
        if failure.check(AgiError):
            log(LOG, logging.INFO, "FastAGI handler ended on an AGI error", script=session.script,
                uniqueid=session.uniqueid, error=str(failure.value))
        else:
            log(LOG, logging.ERROR, "FastAGI handler failed", script=session.script,
                uniqueid=session.uniqueid, error=failure.getErrorMessage(),
                traceback=failure.getTraceback())
        proto.close()
