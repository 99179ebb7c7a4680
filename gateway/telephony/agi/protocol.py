"""FastAGI wire protocol: LF-framed lines, the environment block, one command in flight at a time.

The protocol never touches sockets: tests feed :meth:`dataReceived` and read the transport.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import TYPE_CHECKING, Any

from twisted.internet import defer
from twisted.internet.protocol import Protocol
from twisted.python.failure import Failure

from gateway.logs import log
from gateway.telephony.agi.env import MAX_ENV_LINES, parse_env_line
from gateway.telephony.agi.errors import AgiError, AgiHangup, AgiProtocolError, AgiTimeout
from gateway.telephony.agi.reply import AgiReply, ReplyParser, parse_result_line

if TYPE_CHECKING:
    from gateway.telephony.agi.server import FastAGIFactory

LOG = logging.getLogger("gateway.telephony.agi")
MAX_LINE = 16384


class FastAGIProtocol(Protocol):
    """One FastAGI connection: reads the environment, starts the routed handler, runs commands."""

    def __init__(self, factory: FastAGIFactory):
        self.factory = factory
        self.env: dict[str, str] = {}
        self.hungup = False
        self.closed = False
        self._buf = b""
        self._env_done = False
        self._parser = ReplyParser()
        self._inflight: tuple[str, defer.Deferred[AgiReply]] | None = None
        self._queue: deque[tuple[str, defer.Deferred[AgiReply], float | None]] = deque()
        self.deadline: float | None = None  # the factory's sweeper times out env and commands
        self._timeout_s = factory.command_timeout_s  # of the command in flight
        self._hangup_callbacks: list[Any] = []

    # -- connection -----------------------------------------------------------------------------
    def connectionMade(self) -> None:
        self.deadline = self.factory.clock.seconds() + self.factory.command_timeout_s

    def connectionLost(self, reason: Failure = None) -> None:  # type: ignore[assignment]
        self.closed = True
        self.deadline = None
        if self._inflight is not None or self._queue:
            self._fail_all(AgiHangup("connection closed"))
        if self._hangup_callbacks:
            self._notify_hangup()
        self.factory.session_ended(self)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.deadline = None
            if self._inflight is not None or self._queue:
                self._fail_all(AgiHangup("session closed"))
            if self.transport is not None:
                self.transport.loseConnection()

    # -- framing --------------------------------------------------------------------------------
    def dataReceived(self, data: bytes) -> None:
        if self.closed:
            return
        buf = self._buf + data if self._buf else data
        if not self._env_done:
            buf = self._env_block(buf)
            if buf is None:
                return
        elif buf[-1:] == b"\n" and buf.count(b"\n") == 1:  # the usual case: exactly one reply line
            self._buf = b""
            line = buf[:-1].decode("utf-8", "replace")
            self._reply_line(line[:-1] if line.endswith("\r") else line)
            return
        if b"\n" not in buf:
            if len(buf) > MAX_LINE:
                self._protocol_error(AgiProtocolError(f"line longer than {MAX_LINE} bytes"))
            else:
                self._buf = buf
            return
        *lines, self._buf = buf.split(b"\n")
        for raw in lines:
            if self.closed:
                return
            line = raw.decode("utf-8", "replace")
            if line.endswith("\r"):
                line = line[:-1]
            self._reply_line(line)

    def _env_block(self, buf: bytes) -> bytes | None:
        """Parse the environment once its blank line has arrived; return the bytes after it."""
        if buf[:1] == b"\n" or buf[:2] == b"\r\n":
            self._protocol_error(AgiProtocolError("empty AGI environment block"))
            return None
        end, skip = buf.find(b"\n\n"), 2
        crlf = buf.find(b"\n\r\n")
        if crlf >= 0 and (end < 0 or crlf < end):
            end, skip = crlf, 3
        if end < 0:
            if len(buf) > MAX_LINE:
                self._protocol_error(AgiProtocolError(f"AGI environment longer than {MAX_LINE} bytes"))
            else:
                self._buf = buf
            return None
        text = buf[:end].decode("utf-8", "replace")
        lines = text.split("\n")
        if len(lines) > MAX_ENV_LINES:
            self._protocol_error(AgiProtocolError(f"AGI environment longer than {MAX_ENV_LINES} lines"))
            return None
        try:  # fast path: LF lines, "agi_key: value", no repeats
            env = dict([line.split(": ", 1) for line in lines])
            ok = (len(env) == len(lines) and "\r" not in text and text.startswith("agi_")
                  and text.count("\nagi_") == len(lines) - 1)
        except ValueError:
            ok = False
        if not ok:
            env = {}
            for line in lines:
                try:
                    key, value = parse_env_line(line.removesuffix("\r"))
                except AgiProtocolError as exc:
                    self._protocol_error(exc)
                    return None
                env[key] = value
        self.env.update(env)
        self._env_done = True
        self._buf = b""
        self.deadline = None
        self.factory.start_session(self)
        return buf[end + skip:]

    def _reply_line(self, line: str) -> None:
        if line == "HANGUP" and not self._parser.in_block:
            self.hungup = True
            self._notify_hangup()
            return
        if self._inflight is None:
            if not line:
                return
            self._protocol_error(AgiProtocolError(f"unsolicited AGI line {line[:120]!r}"))
            return
        command, d = self._inflight
        if line.startswith("200 result=") and not self._parser.in_block:
            try:
                reply: AgiReply | None = parse_result_line(line)
            except AgiProtocolError as exc:
                self._protocol_error(exc)
                return
            self._complete()
            d.callback(reply)
            return
        try:
            reply = self._parser.feed(line, command)
        except AgiProtocolError as exc:
            self._protocol_error(exc)
            return
        except AgiError as exc:
            self._complete()
            d.errback(exc)
            return
        if reply is not None:
            self._complete()
            d.callback(reply)

    # -- commands -------------------------------------------------------------------------------
    def send_command(self, command: str, timeout_s: float | None = None) -> defer.Deferred[AgiReply]:
        """Queue ``command`` (one line, no newline); fires with its :class:`AgiReply`.

        ``timeout_s`` replaces the factory's ``command_timeout_s`` for a command that legitimately
        runs longer (``RECORD FILE`` lasts up to its own time cap)."""
        if "\n" in command or "\r" in command:
            return defer.fail(ValueError("an AGI command must be a single line"))
        if self.closed:
            return defer.fail(AgiHangup("session closed", command))
        d: defer.Deferred[AgiReply] = defer.Deferred()
        if self._inflight is None:
            self._write(command, d, timeout_s)
        else:
            self._queue.append((command, d, timeout_s))
        return d

    def _write(self, command: str, d: defer.Deferred[AgiReply], timeout_s: float | None = None) -> None:
        self._inflight = (command, d)
        self._timeout_s = timeout_s or self.factory.command_timeout_s
        self.deadline = self.factory.clock.seconds() + self._timeout_s
        self.transport.write(command.encode("utf-8") + b"\n")

    def _complete(self) -> None:
        self._inflight = None
        self.deadline = None
        if self._queue and not self.closed:
            self._write(*self._queue.popleft())

    # -- hang-up notice -------------------------------------------------------------------------
    def on_hangup(self, callback: Any) -> None:
        """Call ``callback()`` once when Asterisk sends ``HANGUP`` or the connection drops."""
        if self.hungup or self.closed:
            callback()
        else:
            self._hangup_callbacks.append(callback)

    def _notify_hangup(self) -> None:
        callbacks, self._hangup_callbacks = self._hangup_callbacks, []
        for cb in callbacks:
            try:
                cb()
            except Exception:
                LOG.exception("AGI hang-up callback failed")

    # -- failures -------------------------------------------------------------------------------
    def _fail_all(self, exc: AgiError) -> None:
        pending = []
        if self._inflight is not None:
            pending.append(self._inflight[1])
            self._inflight = None
        while self._queue:
            pending.append(self._queue.popleft()[1])
        for d in pending:
            d.errback(Failure(exc))

    def _protocol_error(self, exc: AgiProtocolError) -> None:
        log(LOG, logging.WARNING, "FastAGI protocol error, closing the session", error=str(exc),
            script=self.env.get("agi_network_script"), uniqueid=self.env.get("agi_uniqueid"))
        self._buf = b""
        if self._inflight is not None:
            d = self._inflight[1]
            self._inflight = None
            d.errback(Failure(exc))
        self.close()

    def expired(self) -> None:
        """Called by the factory's sweeper once ``deadline`` has passed."""
        self.deadline = None
        if not self._env_done:
            log(LOG, logging.WARNING, "FastAGI environment block not received in time, closing")
            self.close()
            return
        command = self._inflight[0] if self._inflight else ""
        log(LOG, logging.WARNING, "FastAGI command timed out, closing the session", command=command,
            timeout_s=self._timeout_s, uniqueid=self.env.get("agi_uniqueid"))
        if self._inflight is not None:
            d = self._inflight[1]
            self._inflight = None
            d.errback(Failure(AgiTimeout(f"no reply within {self._timeout_s}s", command)))
        self.close()
