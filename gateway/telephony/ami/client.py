"""AMI client: login, keep-alive ping, reconnect with exponential backoff, resync, event handlers.

``AmiClient(endpoint, username, secret)`` owns one :class:`AmiProtocol` at a time. The secret is
registered with the log scrubber and never logged.
"""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Callable, Mapping
from typing import Any

from twisted.application.service import Service
from twisted.internet import defer
from twisted.internet.interfaces import IDelayedCall, IStreamClientEndpoint
from twisted.internet.protocol import Factory
from twisted.internet.task import LoopingCall
from twisted.python.failure import Failure

from gateway.logs import log, register_secret
from gateway.telephony.ami import actions
from gateway.telephony.ami.errors import AmiActionError, AmiDisconnected, AmiError
from gateway.telephony.ami.message import AmiMessage
from gateway.telephony.ami.protocol import AmiProtocol

LOG = logging.getLogger("gateway.telephony.ami")
EventHandler = Callable[[AmiMessage], Any]
ResyncHook = Callable[["AmiClient"], Any]


class _Factory(Factory):
    def __init__(self, client: AmiClient):
        self.client = client

    def buildProtocol(self, addr: Any) -> AmiProtocol:
        return AmiProtocol(self.client)


class AmiClient:
    """A logged-in manager session that comes back by itself.

    ``state()`` reports ``connected`` (logged in), ``last_error`` and counters for ``/healthz``.
    """

    def __init__(self, endpoint: IStreamClientEndpoint | None, username: str,
                 secret: str | Callable[[], str | None] | None, *, clock: Any = None,
                 events: str = "on", ping_interval_s: float = 20, action_timeout_s: float = 10,
                 reconnect_initial_s: float = 1, reconnect_max_s: float = 30, name: str = "ami"):
        if clock is None:
            from twisted.internet import reactor as clock
        self.endpoint = endpoint
        self.username = username
        self._secret = secret
        self.clock = clock
        self.events = events
        self.ping_interval_s = ping_interval_s
        self.action_timeout_s = action_timeout_s
        self.reconnect_initial_s = reconnect_initial_s
        self.reconnect_max_s = reconnect_max_s
        self.name = name
        self.factory = _Factory(self)
        self.protocol: AmiProtocol | None = None
        self.connected = False
        self.last_error: str | None = None
        self.failures = 0
        self.connects_total = 0
        self.events_total = 0
        self._running = False
        self._retry: IDelayedCall | None = None
        self._connecting: defer.Deferred[Any] | None = None
        self._pinger: LoopingCall | None = None
        self._handlers: dict[str, list[tuple[dict[str, str], EventHandler]]] = {}
        self._resync: list[ResyncHook] = []

    # -- public API -----------------------------------------------------------------------------
    def on(self, event: str, handler: EventHandler, **match: str) -> None:
        """Call ``handler(msg)`` for ``event`` (``"*"`` for all); ``match`` filters by header
        values (``fnmatch`` patterns), e.g. ``on("ConfbridgeJoin", cb, Conference="incident-*")``."""
        self._handlers.setdefault(event, []).append((match, handler))

    def off(self, event: str, handler: EventHandler) -> None:
        self._handlers[event] = [(m, h) for m, h in self._handlers.get(event, []) if h is not handler]

    def on_resync(self, hook: ResyncHook) -> None:
        """``hook(client)`` runs after every (re)login to rebuild state (e.g. CoreShowChannels)."""
        self._resync.append(hook)

    def send_action(self, action: Mapping[str, Any], timeout_s: float | None = None) -> defer.Deferred[Any]:
        if not self.connected or self.protocol is None:
            return defer.fail(AmiDisconnected(f"AMI not connected: {self.last_error or 'connecting'}"))
        return self.protocol.send_action(action, timeout_s)

    def state(self) -> dict[str, Any]:
        return {"connected": self.connected, "last_error": self.last_error, "failures": self.failures,
                "connects_total": self.connects_total, "events_total": self.events_total}

    # action shortcuts
    def originate(self, channel: str, action_id: str | None = None, **kw: Any) -> defer.Deferred[Any]:
        """``action_id`` names the action; the later ``OriginateResponse`` event carries it."""
        return self.send_action({**actions.originate(channel, **kw), "ActionID": action_id})

    def redirect(self, channel: str, context: str, exten: str, priority: int | str = 1,
                 **kw: Any) -> defer.Deferred[Any]:
        return self.send_action(actions.redirect(channel, context, exten, priority, **kw))

    def hangup(self, channel: str, cause: int | None = None) -> defer.Deferred[Any]:
        return self.send_action(actions.hangup(channel, cause))

    def confbridge_kick(self, conference: str, channel: str) -> defer.Deferred[Any]:
        return self.send_action(actions.confbridge_kick(conference, channel))

    @defer.inlineCallbacks
    def confbridge_list(self, conference: str) -> Any:
        """The members (ConfbridgeList events); an empty list when the room does not exist."""
        try:
            _resp, events = yield self.send_action(actions.confbridge_list(conference))
        except AmiActionError as exc:
            if "No active conferences" in exc.message or "No Conference by that name" in exc.message:
                return []
            raise
        return events

    @defer.inlineCallbacks
    def getvar(self, variable: str, channel: str | None = None) -> Any:
        resp = yield self.send_action(actions.getvar(variable, channel))
        return resp.get("Value")

    def setvar(self, variable: str, value: str, channel: str | None = None) -> defer.Deferred[Any]:
        return self.send_action(actions.setvar(variable, value, channel))

    def mixmonitor(self, channel: str, file: str, options: str | None = None) -> defer.Deferred[Any]:
        return self.send_action(actions.mixmonitor(channel, file, options))

    def stop_mixmonitor(self, channel: str, mixmonitor_id: str | None = None) -> defer.Deferred[Any]:
        return self.send_action(actions.stop_mixmonitor(channel, mixmonitor_id))

    def queue_status(self, queue: str | None = None) -> defer.Deferred[Any]:
        return self.send_action(actions.queue_status(queue))

    def core_show_channels(self) -> defer.Deferred[Any]:
        return self.send_action(actions.core_show_channels())

    # -- connection lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        if not self._running:
            self._running = True
            self._connect()

    def stop(self) -> None:
        self._running = False
        if self._retry is not None and self._retry.active():
            self._retry.cancel()
        if self._connecting is not None:
            self._connecting.cancel()
        if self.protocol is not None and self.protocol.transport is not None:
            self.protocol.transport.loseConnection()

    def _connect(self) -> None:
        self._retry = None
        if not self._running or self.endpoint is None:
            return
        self._connecting = self.endpoint.connect(self.factory)
        self._connecting.addErrback(self._connect_failed)

    def _connect_failed(self, failure: Failure) -> None:
        self._connecting = None
        if failure.check(defer.CancelledError):
            return
        self._failed(f"connect failed: {failure.getErrorMessage()}")

    def _failed(self, error: str) -> None:
        self.connected = False
        self.failures += 1
        changed = error != self.last_error
        self.last_error = error
        delay = min(self.reconnect_initial_s * 2 ** (self.failures - 1), self.reconnect_max_s)
        # First failure, a new kind of error, then every 10th: no log spam while Asterisk is away.
        if self.failures == 1 or changed or self.failures % 10 == 0:
            log(LOG, logging.WARNING, "AMI unavailable, retrying", error=error, attempt=self.failures,
                retry_in_s=delay, client=self.name)
        if self._running and (self._retry is None or not self._retry.active()):
            self._retry = self.clock.callLater(delay, self._connect)

    def _secret_value(self) -> str | None:
        secret = self._secret() if callable(self._secret) else self._secret
        register_secret(secret)
        return secret

    # -- AmiOwner callbacks ---------------------------------------------------------------------
    def banner_received(self, proto: AmiProtocol, banner: str) -> None:
        self._connecting = None
        self.protocol = proto
        secret = self._secret_value()
        if not secret:
            self.last_error = "AMI secret is not set"
            proto.transport.loseConnection()
            return
        d = proto.send_action(actions.login(self.username, secret, self.events))
        d.addCallbacks(self._logged_in, self._login_failed, callbackArgs=(proto,), errbackArgs=(proto,))

    def _logged_in(self, _resp: AmiMessage, proto: AmiProtocol) -> None:
        if proto is not self.protocol:
            return
        if self.failures:
            log(LOG, logging.INFO, "AMI connected again", after_failures=self.failures, client=self.name)
        else:
            log(LOG, logging.INFO, "AMI connected", banner=proto.banner, client=self.name)
        self.connected = True
        self.failures = 0
        self.last_error = None
        self.connects_total += 1
        self._pinger = LoopingCall(self._ping)
        self._pinger.clock = self.clock
        self._pinger.start(self.ping_interval_s, now=False)
        for hook in list(self._resync):
            defer.maybeDeferred(hook, self).addErrback(
                lambda f: log(LOG, logging.ERROR, "AMI resync hook failed", error=f.getErrorMessage()))

    def _login_failed(self, failure: Failure, proto: AmiProtocol) -> None:
        if failure.check(AmiActionError):
            self.last_error = f"login failed: {failure.value.message}"
        else:
            self.last_error = f"login failed: {failure.getErrorMessage()}"
        if proto.transport is not None:
            proto.transport.loseConnection()

    def _ping(self) -> None:
        proto = self.protocol
        if proto is None or not self.connected:
            return

        def timed_out(f: Failure) -> None:
            if f.check(AmiError) and proto is self.protocol and proto.transport is not None:
                log(LOG, logging.WARNING, "AMI ping unanswered, reconnecting", error=f.getErrorMessage())
                self.last_error = f"ping failed: {f.getErrorMessage()}"
                proto.transport.loseConnection()

        proto.send_action(actions.ping(), timeout_s=self.ping_interval_s).addErrback(timed_out)

    def event_received(self, msg: AmiMessage) -> None:
        self.events_total += 1
        name = msg.get("Event")
        for key in (name, "*"):
            subs = self._handlers.get(key)  # type: ignore[arg-type]
            if not subs:
                continue
            for match, handler in subs:
                if match and not all(fnmatch.fnmatchcase(str(msg.get(k, "")), v) for k, v in match.items()):
                    continue
                try:
                    handler(msg)
                except Exception:
                    LOG.exception("AMI event handler failed for %s", name)

    def connection_lost(self, proto: AmiProtocol, reason: str) -> None:
        if proto is not self.protocol:
            if self.protocol is None and self._running and self._retry is None:
                self._failed(self.last_error or f"connection lost before login: {reason}")
            return
        was_connected = self.connected
        self.protocol = None
        self.connected = False
        if self._pinger is not None and self._pinger.running:
            self._pinger.stop()
        self._pinger = None
        if was_connected:
            self.failures = 0
        if self._running:
            login_error = self.last_error if not was_connected else None
            self._failed(login_error or f"connection lost: {reason}")


class AmiService(Service):
    """Runs an :class:`AmiClient` as a Twisted service (connect on start, disconnect on stop)."""

    def __init__(self, client: AmiClient):
        self.client = client
        self.setName("ami")

    def startService(self) -> None:
        super().startService()
        self.client.start()

    def stopService(self) -> Any:
        super().stopService()
        self.client.stop()
