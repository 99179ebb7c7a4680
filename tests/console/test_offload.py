"""Console database work runs on its own worker thread: a slow query never stalls the reactor
that telephony shares, and the response still arrives whole."""

from __future__ import annotations

import threading
import time

from twisted.internet import reactor
from twisted.internet.threads import blockingCallFromThread

from gateway.console import app as console_app


def test_a_slow_search_does_not_block_the_reactor(server, monkeypatch):
    real_search = console_app.search

    def slow_search(*args, **kwargs):
        time.sleep(0.6)  # a search over many calls
        return real_search(*args, **kwargs)

    monkeypatch.setattr(console_app, "search", slow_search)
    s = server.login("boss")
    result = {}

    def query():
        r = s.get(f"{server.base}/api/search", params={"q": "停水"})
        result["status"], result["body"] = r.status_code, r.json()

    t = threading.Thread(target=query)
    t.start()
    time.sleep(0.1)  # the search is now running
    worst = 0.0
    while t.is_alive():
        started = time.perf_counter()
        blockingCallFromThread(reactor, lambda: None)  # one reactor turn
        worst = max(worst, time.perf_counter() - started)
        time.sleep(0.02)
    t.join()
    assert result["status"] == 200 and "total" in result["body"]
    assert worst < 0.3, f"the reactor was blocked for {worst:.3f}s"


def test_handler_failure_is_a_500_and_the_next_request_works(server, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    s = server.login("boss")
    monkeypatch.setattr(console_app, "figures", broken)
    r = s.get(f"{server.base}/api/dashboard")
    assert r.status_code == 500 and r.json() == {"error": "internal error"}
    assert r.headers["x-frame-options"] == "DENY"  # security headers on errors too
    monkeypatch.undo()
    assert s.get(f"{server.base}/api/me").json()["user"]["name"] == "boss"


def test_head_gets_headers_and_no_body(server):
    s = server.login("boss")
    r = s.head(f"{server.base}/api/me")
    assert r.status_code == 200 and r.content == b""
    assert int(r.headers["content-length"]) > 0
