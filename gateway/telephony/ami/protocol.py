"""AMI wire protocol: banner line, CRLF-framed messages, ActionID correlation and event lists.

The protocol never touches sockets; its owner (:class:`~gateway.telephony.ami.client.AmiClient`)
receives the banner, every event and the loss of the connection.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping
from typing import Any
from typing import Protocol as TypingProtocol

from twisted.internet import defer
from twisted.internet.interfaces import IDelayedCall
from twisted.internet.protocol import Protocol
from twisted.python.failure import Failure

from gateway.logs import log
from gateway.telephony.ami.errors import AmiActionError, AmiDisconnected, AmiProtocolError, AmiTimeout
from gateway.telephony.ami.message import AmiMessage, parse_message, serialize_action

LOG = logging.getLogger("gateway.telephony.ami")
MAX_MESSAGE = 1 << 20
_ids = itertools.count(1)


class AmiOwner(TypingProtocol):
    clock: Any
    action_timeout_s: float

    def banner_received(self, proto: AmiProtocol, banner: str) -> None: ...
    def event_received(self, msg: AmiMessage) -> None: ...
    def connection_lost(self, proto: AmiProtocol, reason: str) -> None: ...


class _Pending:
    __slots__ = ("action", "d", "events", "response", "timer")

    def __init__(self, action: str, d: defer.Deferred[Any], timer: IDelayedCall | None):
        self.action = action
        self.d = d
        self.timer = timer
        self.response: AmiMessage | None = None
        self.events: list[AmiMessage] | None = None


class AmiProtocol(Protocol):
    """One manager connection."""

    def __init__(self, owner: AmiOwner):
        self.owner = owner
        self.banner: str | None = None
        self._buf = b""
        self._pending: dict[str, _Pending] = {}
        self._prefix = f"lk{next(_ids)}-"
        self._seq = itertools.count(1)
        self._lost = False

    # -- framing --------------------------------------------------------------------------------
    def dataReceived(self, data: bytes) -> None:
        buf = self._buf + data if self._buf else data
        if self.banner is None:
            end = buf.find(b"\r\n")
            if end < 0:
                if len(buf) > 1024:
                    self._protocol_error("no AMI banner line")
                else:
                    self._buf = buf
                return
            banner = buf[:end].decode("utf-8", "replace")
            buf = buf[end + 2:]
            if not banner.startswith("Asterisk Call Manager/"):
                self._protocol_error(f"unexpected AMI banner {banner[:80]!r}")
                return
            self.banner = banner
            self.owner.banner_received(self, banner)
        if b"\r\n\r\n" not in buf:
            if len(buf) > MAX_MESSAGE:
                self._protocol_error(f"AMI message longer than {MAX_MESSAGE} bytes")
            else:
                self._buf = buf
            return
        end = buf.rfind(b"\r\n\r\n")
        self._buf = buf[end + 4:]
        pending = self._pending
        event_received = self.owner.event_received
        # UTF-8 never has CR/LF inside a multi-byte character: decode all complete messages at once
        for block in buf[:end].decode("utf-8", "replace").split("\r\n\r\n"):
            if self._lost:
                return
            msg = parse_message(block)
            if "Event" in msg:
                if pending:
                    aid = msg.get("ActionID")
                    if aid is not None and aid in pending:
                        self._list_event(pending[aid], aid, msg)
                        continue
                event_received(msg)
            elif "Response" in msg:
                self._response(msg)
            elif msg:
                log(LOG, logging.WARNING, "AMI message without Response or Event ignored",
                    keys=sorted(msg)[:10])

    # -- correlation ----------------------------------------------------------------------------
    def send_action(self, action: Mapping[str, Any], timeout_s: float | None = None) -> defer.Deferred[Any]:
        """Send ``action``; fires with the response ``AmiMessage``, or for an event list with
        ``(response, [events])``; errbacks :class:`AmiActionError` on ``Response: Error``."""
        if self._lost or self.transport is None:
            return defer.fail(AmiDisconnected("AMI connection is down"))
        name = str(action.get("Action", ""))
        body = dict(action)
        # a caller-chosen ActionID (e.g. to match a later OriginateResponse) is kept when unique
        aid = str(body.pop("ActionID", None) or f"{self._prefix}{next(self._seq)}")
        if aid in self._pending:
            return defer.fail(ValueError(f"ActionID {aid!r} is already pending"))
        try:
            data = serialize_action({"Action": name, "ActionID": aid, **body})
        except ValueError as exc:
            return defer.fail(exc)
        d: defer.Deferred[Any] = defer.Deferred()
        timeout = timeout_s if timeout_s is not None else self.owner.action_timeout_s
        timer = self.owner.clock.callLater(timeout, self._timeout, aid) if timeout else None
        self._pending[aid] = _Pending(name, d, timer)
        self.transport.write(data)
        return d

    def _response(self, msg: AmiMessage) -> None:
        aid = msg.get("ActionID")
        p = self._pending.get(aid) if aid is not None else None
        if p is None:
            log(LOG, logging.DEBUG, "AMI response for no pending action", action_id=aid)
            return
        if msg.get("Response") == "Error":
            self._finish(aid, p)
            p.d.errback(Failure(AmiActionError(p.action, str(msg.get("Message", "error")), msg)))
            return
        if msg.get("EventList") == "start":
            p.response = msg
            p.events = []
            return
        self._finish(aid, p)
        p.d.callback(msg)

    def _list_event(self, p: _Pending, aid: str, msg: AmiMessage) -> None:
        if p.events is None:  # e.g. OriginateResponse after the action finished: an ordinary event
            self.owner.event_received(msg)
            return
        if msg.get("EventList") == "Complete":
            self._finish(aid, p)
            p.d.callback((p.response, p.events))
        else:
            p.events.append(msg)

    def _finish(self, aid: str, p: _Pending) -> None:
        del self._pending[aid]
        if p.timer is not None and p.timer.active():
            p.timer.cancel()

    def _timeout(self, aid: str) -> None:
        p = self._pending.pop(aid, None)
        if p is not None:
            p.d.errback(Failure(AmiTimeout(f"{p.action}: no reply within the timeout")))

    # -- loss -----------------------------------------------------------------------------------
    def _protocol_error(self, message: str) -> None:
        log(LOG, logging.WARNING, "AMI protocol error, dropping the connection", error=message)
        self._buf = b""
        self._fail_pending(AmiProtocolError(message))
        self._lost = True
        if self.transport is not None:
            self.transport.loseConnection()

    def _fail_pending(self, exc: Exception) -> None:
        pending, self._pending = self._pending, {}
        for p in pending.values():
            if p.timer is not None and p.timer.active():
                p.timer.cancel()
            p.d.errback(Failure(exc))

    def connectionLost(self, reason: Failure = None) -> None:  # type: ignore[assignment]
        self._lost = True
        why = reason.getErrorMessage() if reason is not None else "connection lost"
        self._fail_pending(AmiDisconnected(f"AMI connection lost: {why}"))
        self.owner.connection_lost(self, why)
