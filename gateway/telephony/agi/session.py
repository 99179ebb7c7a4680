"""The command API a FastAGI handler uses: every call returns a Deferred."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from twisted.internet import defer, threads

from gateway.telephony.agi.env import script_args, script_name
from gateway.telephony.agi.protocol import FastAGIProtocol
from gateway.telephony.agi.reply import AgiReply

T = TypeVar("T")
RECORD_MARGIN_S = 15.0


def quote(value: str) -> str:
    """One AGI argument: double-quoted, backslashes and quotes escaped, no line breaks."""
    if "\n" in value or "\r" in value:
        raise ValueError("AGI arguments cannot contain line breaks")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class AgiSession:
    """A routed FastAGI call: ``env``, ``script``, ``args`` and command helpers."""

    def __init__(self, protocol: FastAGIProtocol):
        self.protocol = protocol
        self.env = protocol.env
        self.script = script_name(self.env)
        self.args = script_args(self.env)
        self.uniqueid = self.env.get("agi_uniqueid", "")
        self.channel = self.env.get("agi_channel", "")

    @property
    def hungup(self) -> bool:
        return self.protocol.hungup or self.protocol.closed

    def on_hangup(self, callback: Callable[[], Any]) -> None:
        self.protocol.on_hangup(callback)

    def command(self, *parts: str, timeout_s: float | None = None) -> defer.Deferred[AgiReply]:
        """Send ``parts`` joined by spaces (quote arguments yourself, or use the helpers below);
        ``timeout_s`` overrides the server's command timeout for this one command."""
        return self.protocol.send_command(" ".join(parts), timeout_s)

    def blocking(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> defer.Deferred[T]:
        """Run blocking work on the reactor's thread pool, never on the reactor thread."""
        reactor = self.protocol.factory.reactor
        return threads.deferToThreadPool(reactor, reactor.getThreadPool(), fn, *args, **kwargs)

    # -- helpers --------------------------------------------------------------------------------
    def answer(self) -> defer.Deferred[AgiReply]:
        return self.command("ANSWER")

    def hangup(self) -> defer.Deferred[AgiReply]:
        return self.command("HANGUP")

    def verbose(self, message: str, level: int = 1) -> defer.Deferred[AgiReply]:
        return self.command("VERBOSE", quote(message), str(level))

    def set_variable(self, name: str, value: str) -> defer.Deferred[AgiReply]:
        return self.command("SET VARIABLE", name, quote(value))

    def get_variable(self, name: str) -> defer.Deferred[str | None]:
        """The variable's value, or ``None`` when unset (``200 result=0``)."""
        return self.command("GET VARIABLE", name).addCallback(
            lambda reply: reply.data if reply.result == "1" else None)

    def stream_file(self, filename: str, escape_digits: str = "") -> defer.Deferred[AgiReply]:
        return self.command("STREAM FILE", filename, quote(escape_digits))

    def exec_app(self, application: str, *args: str) -> defer.Deferred[AgiReply]:
        return self.command("EXEC", application, quote(",".join(args)))

    def record_file(self, filename: str, fmt: str = "wav", escape_digits: str = "#",
                    timeout_ms: int = 60000, silence_s: int | None = None,
                    beep: bool = True) -> defer.Deferred[AgiReply]:
        parts = ["RECORD FILE", filename, fmt, quote(escape_digits), str(timeout_ms)]
        if beep:
            parts.append("BEEP")
        if silence_s:
            parts.append(f"s={silence_s}")
        # Asterisk answers only when the recording ends: allow its whole cap (plus the beep and
        # a margin), not the server's usual command timeout, or long descriptions are cut off.
        return self.command(*parts, timeout_s=timeout_ms / 1000 + RECORD_MARGIN_S)
