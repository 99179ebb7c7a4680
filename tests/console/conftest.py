"""A real console server on a loopback port per test, with a seeded archive and a settable clock."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).parent))

from console_seed import Archive, Clock, start_reactor

from gateway.console import build_console

PASSWORD = "correct horse battery"


@dataclass
class Server:
    base: str
    console: object
    clock: Clock
    archive: Archive

    def login(self, name: str, password: str = PASSWORD) -> requests.Session:
        s = requests.Session()
        page = s.get(f"{self.base}/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        r = s.post(
            f"{self.base}/login",
            data={"name": name, "password": password, "csrf": csrf},
            allow_redirects=False,
        )
        assert r.status_code == 303, r.text
        return s

    def csrf(self, s: requests.Session) -> str:
        return s.get(f"{self.base}/api/me").json()["csrf"]


@pytest.fixture(autouse=True)
def _fast_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real argon2id, with test-sized cost so each test's users hash in milliseconds."""
    from argon2 import PasswordHasher

    from gateway.console import auth

    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def server(config) -> Iterator[Server]:
    from twisted.internet import reactor
    from twisted.internet.threads import blockingCallFromThread
    from twisted.web.server import Site

    start_reactor()
    clock = Clock()
    root = build_console(config, clock=clock, secret=b"test-secret-key")
    site = Site(root)
    port = blockingCallFromThread(reactor, reactor.listenTCP, 0, site, interface="127.0.0.1")
    archive = Archive(config)
    users = root.console.users
    users.add("boss", PASSWORD, "supervisor")
    users.add("taker1", PASSWORD, "call_taker")
    users.add("taker2", PASSWORD, "call_taker")
    users.add("water1", PASSWORD, "agency", agency="water")
    users.add("water2", PASSWORD, "agency", agency="water", grant_recordings=True)
    users.add("power1", PASSWORD, "agency", agency="power")
    try:
        yield Server(f"http://127.0.0.1:{port.getHost().port}", root.console, clock, archive)
    finally:
        blockingCallFromThread(reactor, port.stopListening)
        archive.conn.close()
