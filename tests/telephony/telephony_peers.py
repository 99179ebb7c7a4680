"""Scripted Asterisk peers on real loopback sockets: an AMI server and a FastAGI client.

Both replay Asterisk 22's own bytes (from ``shared/asterisk/`` captures) and record what the
gateway sent, so tests assert on the wire, not on internals.
"""

from __future__ import annotations

from collections.abc import Callable

from telephony_wire import DEFAULT_REPLIES
from twisted.internet import defer, protocol

from gateway.telephony.ami.message import parse_message

BANNER = b"Asterisk Call Manager/11.0.0\r\n"


class ScriptedAmiProtocol(protocol.Protocol):
    def connectionMade(self):
        self.factory.connections.append(self)
        self.buf = b""
        self.transport.write(BANNER)

    def dataReceived(self, data):
        self.buf += data
        *blocks, self.buf = self.buf.split(b"\r\n\r\n")
        for block in blocks:
            action = dict(parse_message(block.decode()))
            self.factory.actions.append(action)
            hook = self.factory.hooks.get(action["Action"])
            reply = hook(action) if hook else None
            if reply is None:
                reply = DEFAULT_REPLIES.get(action["Action"], "Response: Success\r\nActionID: {aid}\r\n\r\n")
            if isinstance(reply, str):
                reply = reply.replace("{aid}", action["ActionID"]).encode()
            self.transport.write(reply)
            for waiter in self.factory.waiters.pop(action["Action"], []):
                waiter.callback(action)

    def connectionLost(self, reason=None):
        if self in self.factory.connections:
            self.factory.connections.remove(self)
        self.factory.lost += 1


class ScriptedAmiServer(protocol.Factory):
    """``hooks[action](action) -> reply str/bytes or None`` (default Success); ``push(bytes)`` sends
    events to every connected client; ``wait_for(action)`` fires when that action arrives."""

    protocol = ScriptedAmiProtocol

    def __init__(self):
        self.connections: list[ScriptedAmiProtocol] = []
        self.actions: list[dict] = []
        self.hooks: dict[str, Callable[[dict], object]] = {}
        self.waiters: dict[str, list[defer.Deferred]] = {}
        self.lost = 0

    def push(self, *blocks: bytes) -> None:
        for conn in self.connections:
            conn.transport.write(b"".join(blocks))

    def drop(self) -> None:
        for conn in list(self.connections):
            conn.transport.abortConnection()

    def wait_for(self, action: str) -> defer.Deferred:
        for a in self.actions:
            if a["Action"] == action and not a.get("_seen"):
                a["_seen"] = True
                return defer.succeed(a)
        d: defer.Deferred = defer.Deferred()
        d.addCallback(lambda a: a.__setitem__("_seen", True) or a)
        self.waiters.setdefault(action, []).append(d)
        return d

    def named(self, action: str) -> list[dict]:
        return [a for a in self.actions if a["Action"] == action]


class FastAgiClientProtocol(protocol.Protocol):
    """Plays Asterisk on a FastAGI connection: sends the env block, answers each command by the
    first matching ``(prefix, reply lines)`` of its script, default ``200 result=1``."""

    def __init__(self, env: bytes, script: list[tuple[str, list[str]]]):
        self.env = env
        self.script = list(script)
        self.commands: list[str] = []
        self.done: defer.Deferred = defer.Deferred()
        self.buf = b""

    def connectionMade(self):
        self.transport.write(self.env)

    def dataReceived(self, data):
        self.buf += data
        *lines, self.buf = self.buf.split(b"\n")
        for raw in lines:
            cmd = raw.decode()
            self.commands.append(cmd)
            reply = ["200 result=1"]
            for i, (prefix, lines_) in enumerate(self.script):
                if cmd.startswith(prefix):
                    reply = lines_
                    del self.script[i]
                    break
            self.transport.write("".join(line + "\n" for line in reply).encode())

    def connectionLost(self, reason=None):
        self.done.callback(self.commands)
