"""Watches the Redis connection from the reactor without blocking it."""

from __future__ import annotations

import logging
import time
from typing import Any

import redis
from twisted.application.service import Service
from twisted.internet import task, threads
from twisted.internet.interfaces import IReactorTime

from gateway.logs import log
from gateway.tickets.metrics import REDIS_UP

LOG = logging.getLogger(__name__)


class RedisMonitor(Service):
    """PINGs Redis every ``interval`` seconds in a thread; logs each change of state once."""

    def __init__(self, client: redis.Redis, interval: float = 5.0, clock: IReactorTime | None = None):
        self.client = client
        self.interval = interval
        self.clock = clock
        self.up: bool | None = None
        self.last_error: str | None = None
        self.checked_at: float | None = None
        self._loop: task.LoopingCall | None = None

    def startService(self) -> None:
        super().startService()
        self._loop = task.LoopingCall(self.check)
        if self.clock is not None:
            self._loop.clock = self.clock
        self._loop.start(self.interval, now=True)

    def stopService(self) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        return super().stopService()

    def _ping(self) -> None:
        self.client.ping()

    def check(self):
        d = threads.deferToThread(self._ping)
        d.addCallbacks(lambda _: self._set(True, None), lambda f: self._set(False, f.getErrorMessage()))
        return d

    def _set(self, up: bool, error: str | None) -> None:
        if up != self.up:
            level = logging.INFO if up else logging.WARNING
            log(LOG, level, "redis up" if up else "redis unreachable; retrying", error=error)
        self.up, self.last_error, self.checked_at = up, error, time.time()
        REDIS_UP.set(1 if up else 0)

    def state(self) -> dict[str, Any]:
        return {"ok": bool(self.up), "up": self.up, "error": self.last_error, "checked_at": self.checked_at}
