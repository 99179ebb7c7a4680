"""The FastAGI listener's write-through transport, over real loopback sockets."""

from __future__ import annotations

import socket

from twisted.internet import defer, main, protocol, reactor
from twisted.internet.testing import MemoryReactor
from twisted.trial import unittest

from gateway.telephony.agi.transport import EagerServer, EagerTCPServerEndpoint


class Recorder(protocol.Protocol):
    """Server side: runs ``on_connect(self)`` and records how the connection ended."""

    def __init__(self, on_connect):
        self.on_connect = on_connect
        self.lost = defer.Deferred()
        self.received = b""

    def connectionMade(self):
        self.on_connect(self)

    def dataReceived(self, data):
        self.received += data

    def connectionLost(self, reason=main.CONNECTION_DONE):
        self.lost.callback([reason])  # a Failure passed as a result would errback


class Collector(protocol.Protocol):
    """Client side: everything the server sent, fired at EOF."""

    def __init__(self):
        self.data = []
        self.done = defer.Deferred()

    def dataReceived(self, data):
        self.data.append(data)

    def connectionLost(self, reason=main.CONNECTION_DONE):
        self.done.callback(b"".join(self.data))


class EagerTransportTests(unittest.TestCase):
    async def _serve(self, on_connect):
        servers = []

        class F(protocol.Factory):
            def buildProtocol(self, addr):
                p = Recorder(on_connect)
                p.factory = self
                servers.append(p)
                return p

        port = await EagerTCPServerEndpoint(reactor, 0, interface="127.0.0.1").listen(F())
        self.addCleanup(port.stopListening)
        client = Collector()
        await protocol.ClientCreator(reactor, lambda: client).connectTCP(
            "127.0.0.1", port.getHost().port)
        return servers, client

    @defer.inlineCallbacks
    def test_small_writes_go_out_without_a_reactor_turn_and_close_is_orderly(self):
        seen = {}

        def on_connect(p):
            assert isinstance(p.transport, EagerServer)
            p.transport.write(b"ANSWER\n")
            seen["queued_after_write"] = len(p.transport._tempDataBuffer)
            p.transport.write(b"GET VARIABLE CHANNEL\n")
            p.transport.loseConnection()
            seen["closed_at_once"] = not p.transport.connected

        servers, client = yield defer.ensureDeferred(self._serve(on_connect))
        data = yield client.done
        [reason] = yield servers[0].lost
        assert data == b"ANSWER\nGET VARIABLE CHANNEL\n"
        assert seen == {"queued_after_write": 0, "closed_at_once": True}
        assert reason.check(type(main.CONNECTION_DONE))

    @defer.inlineCallbacks
    def test_a_write_larger_than_the_socket_buffer_is_queued_and_delivered_before_close(self):
        payload = bytes(range(256)) * (16 * 1024)  # 4 MiB: far beyond the kernel's send buffer
        seen = {}

        def on_connect(p):
            p.transport.write(payload)
            seen["queued"] = p.transport._tempDataLen
            p.transport.write(b"TAIL\n")  # must follow the queued bytes, not jump ahead
            p.transport.loseConnection()
            seen["still_connected"] = p.transport.connected

        servers, client = yield defer.ensureDeferred(self._serve(on_connect))
        data = yield client.done
        yield servers[0].lost
        assert seen["queued"] > 0 and seen["still_connected"]
        assert data == payload + b"TAIL\n"

    @defer.inlineCallbacks
    def test_write_after_the_peer_reset_loses_the_connection_quietly(self):
        holder = {}
        _servers, client = yield defer.ensureDeferred(self._serve(lambda p: holder.setdefault("p", p)))
        # the client aborts with RST; the server writes into the dead socket
        client.transport.abortConnection()
        yield client.done
        p = holder["p"]
        for _ in range(50):
            p.transport.write(b"ANSWER\n")
            if not p.transport.connected:
                break
            yield deferLater(0.01)
        [reason] = yield p.lost
        assert reason.check(Exception)

    def test_other_reactors_get_a_stock_listener(self):
        mem = MemoryReactor()
        d = EagerTCPServerEndpoint(mem, 4573, interface="127.0.0.1").listen(protocol.Factory())
        results = []
        d.addCallback(results.append)
        assert results and mem.tcpServers[0][0] == 4573 and mem.tcpServers[0][3] == "127.0.0.1"


def deferLater(seconds):
    from twisted.internet import task

    return task.deferLater(reactor, seconds, lambda: None)


def test_port_in_use_is_a_clear_error():
    from twisted.internet.error import CannotListenError

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        busy = s.getsockname()[1]
        failures = []
        EagerTCPServerEndpoint(reactor, busy, interface="127.0.0.1").listen(
            protocol.Factory()).addErrback(failures.append)
        assert failures and failures[0].check(CannotListenError)
