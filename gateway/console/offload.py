"""Console work off the reactor thread.

The console shares the reactor with telephony (AMI events, FastAGI commands of live calls), so its
SQLite queries and argon2 checks run on one worker thread of their own: one thread, because the
console holds one SQLite connection. A handler there sees a :class:`RequestSnapshot`: what it
reads of the request, copied on the reactor thread, and what it sets on the response, recorded;
the reactor thread then writes the response. No Twisted call is made off the reactor thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from twisted.internet import defer, threads
from twisted.python.threadpool import ThreadPool
from twisted.web.server import NOT_DONE_YET, Request

_pool: ThreadPool | None = None
_pool_lock = threading.Lock()


def console_pool(reactor: Any) -> ThreadPool:
    """The process's console worker (one thread). Work queues until the reactor runs (a process
    that fails to start never leaves its thread behind); it stops with the reactor."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPool(minthreads=1, maxthreads=1, name="console-db")
            reactor.callWhenRunning(_pool.start)
            reactor.addSystemEventTrigger("during", "shutdown", _pool.stop)
        return _pool


class RequestSnapshot:
    """The parts of a ``twisted.web`` request a console handler uses, safe to use in a thread."""

    def __init__(self, request: Request):
        self.method: bytes = request.method
        self.path: bytes = request.path
        self.uri: bytes = request.uri
        self.args: dict[bytes, list[bytes]] = dict(request.args or {})
        self.received_cookies: dict[bytes, bytes] = dict(request.received_cookies)
        self._headers = {k.lower(): v[-1] for k, v in request.requestHeaders.getAllRawHeaders()}
        self._client = request.getClientAddress()
        self.code = 200
        self.response_headers: list[tuple[bytes, bytes]] = []
        self.cookies: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    # -- what the handler reads ----------------------------------------------------------------
    def getCookie(self, name: bytes) -> bytes | None:
        return self.received_cookies.get(name)

    def getHeader(self, name: bytes | str) -> bytes | None:
        key = name.encode() if isinstance(name, str) else name
        return self._headers.get(key.lower())

    def getClientAddress(self) -> Any:
        return self._client

    # -- what the handler sets -------------------------------------------------------------------
    def setResponseCode(self, code: int, message: bytes | None = None) -> None:
        self.code = code

    def setHeader(self, name: bytes, value: bytes) -> None:
        self.response_headers = [(k, v) for k, v in self.response_headers if k.lower() != name.lower()]
        self.response_headers.append((name, value))

    def addCookie(self, *args: Any, **kwargs: Any) -> None:
        self.cookies.append((args, kwargs))

    def prepare(self, request: Request) -> None:
        """On the reactor thread: put the recorded status, headers and cookies on ``request``."""
        request.setResponseCode(self.code)
        for name, value in self.response_headers:
            request.setHeader(name, value)
        for args, kwargs in self.cookies:
            request.addCookie(*args, **kwargs)

    def send(self, request: Request, body: bytes) -> None:
        """On the reactor thread: answer ``request`` with the recorded response and ``body``."""
        self.prepare(request)
        request.setHeader(b"content-length", str(len(body)).encode())
        if request.method != b"HEAD":
            request.write(body)
        request.finish()


Work = Callable[["RequestSnapshot"], "bytes | Callable[[Request], bytes | int]"]


def render_in_thread(request: Request, work: Work, reactor: Any,
                     on_error: Callable[[RequestSnapshot], bytes]) -> int:
    """Run ``work(snapshot)`` on the console worker; answer ``request`` with what it produced.

    ``work`` returns the body, or a function the reactor thread calls with the real request to
    render it (a file streamed by a producer). ``on_error(snapshot)`` makes the response when
    ``work`` raises. A client that went away meanwhile gets nothing written.
    """
    snapshot = RequestSnapshot(request)
    gone: list[bool] = []
    request.notifyFinish().addErrback(lambda _f: gone.append(True))

    def run() -> bytes | Callable[[Request], bytes | int]:
        try:
            return work(snapshot)
        except Exception:
            return on_error(snapshot)

    d: defer.Deferred[Any] = threads.deferToThreadPool(reactor, console_pool(reactor), run)

    def done(result: bytes | Callable[[Request], bytes | int]) -> None:
        if gone:
            return
        if isinstance(result, bytes):
            snapshot.send(request, result)
            return
        snapshot.prepare(request)
        body = result(request)
        if body is not NOT_DONE_YET:
            if request.method != b"HEAD":
                request.write(body)  # type: ignore[arg-type]
            request.finish()

    d.addCallback(done)
    d.addErrback(lambda f: None if gone else (request.setResponseCode(500), request.finish()))
    return NOT_DONE_YET
