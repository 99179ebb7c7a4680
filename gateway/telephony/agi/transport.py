"""A TCP listener whose connections send at once when nothing is queued.

Twisted's stock transport queues every ``write`` and sends it on the reactor's next turn: two
``epoll_ctl`` calls and one more dispatch per write. FastAGI is strictly one command, one reply,
so nearly every write finds an empty buffer and can go straight to ``send``; anything the kernel
does not take is queued the stock way. ``loseConnection`` with nothing queued closes at once,
as Twisted itself does for a half-closed connection.
"""

from __future__ import annotations

from typing import Any

from twisted.internet import defer, main, tcp
from twisted.internet.interfaces import IStreamServerEndpoint
from twisted.internet.posixbase import PosixReactorBase
from twisted.python.failure import Failure
from zope.interface import implementer


class EagerServer(tcp.Server):
    """``tcp.Server`` that writes through when its buffers are empty."""

    def _idle(self) -> bool:
        return (self.connected and not self.disconnecting and not self._writeDisconnected
                and not self._tempDataBuffer and self.offset >= len(self.dataBuffer)
                and self.producer is None)

    def write(self, data: bytes) -> None:
        if data and self._idle():
            try:
                sent = self.socket.send(data)
            except BlockingIOError:
                sent = 0
            except OSError:
                sent = 0  # let the stock path meet the error again and report it as it always does
            if sent == len(data):
                return
            data = data[sent:]
        super().write(data)

    def loseConnection(self) -> None:
        if self._idle():
            self.stopReading()
            self.stopWriting()
            self.connectionLost(Failure(main.CONNECTION_DONE))
            return
        super().loseConnection()


class EagerPort(tcp.Port):
    transport = EagerServer


@implementer(IStreamServerEndpoint)
class EagerTCPServerEndpoint:
    """Like ``TCP4ServerEndpoint``; the stock endpoint on reactors without posix TCP ports."""

    def __init__(self, reactor: Any, port: int, backlog: int = 50, interface: str = ""):
        self.reactor, self.port, self.backlog, self.interface = reactor, port, backlog, interface

    def listen(self, factory: Any) -> defer.Deferred:
        if not isinstance(self.reactor, PosixReactorBase):
            return defer.execute(self.reactor.listenTCP, self.port, factory, self.backlog, self.interface)

        def start() -> EagerPort:
            port = EagerPort(self.port, factory, self.backlog, self.interface, self.reactor)
            port.startListening()
            return port

        return defer.execute(start)
