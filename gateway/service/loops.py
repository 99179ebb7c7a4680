"""Background loops: the ticket worker (feedback, archive, claims, spool, escalation) off the reactor."""

from __future__ import annotations

import logging
from typing import Any

from twisted.application.service import Service
from twisted.internet import task, threads

from gateway.logs import log

LOG = logging.getLogger(__name__)


class ThreadedLoop(Service):
    """Calls ``work()`` in a thread every ``interval`` s, never two at once; logs failures once."""

    def __init__(self, name: str, work: Any, interval: float = 0.5):
        self.setName(name)
        self.work = work
        self.interval = interval
        self.failing: str | None = None
        self.runs = 0
        self._busy = False
        self._loop = task.LoopingCall(self._tick)

    def startService(self) -> None:
        super().startService()
        self._loop.start(self.interval, now=False)

    def stopService(self) -> Any:
        if self._loop.running:
            self._loop.stop()
        return super().stopService()

    def _tick(self) -> None:
        if self._busy:
            return
        self._busy = True
        d = threads.deferToThread(self.work)
        d.addCallbacks(self._ok, self._failed)
        d.addBoth(self._done)

    def _ok(self, _: Any) -> None:
        self.runs += 1
        if self.failing:
            log(LOG, logging.INFO, f"{self.name} recovered")
        self.failing = None

    def _failed(self, failure: Any) -> None:
        msg = failure.getErrorMessage()
        if msg != self.failing:
            log(LOG, logging.WARNING, f"{self.name} failed; retrying", error=msg)
        self.failing = msg

    def _done(self, _: Any) -> None:
        self._busy = False

    def state(self) -> dict[str, Any]:
        return {"ok": self.failing is None, "runs": self.runs, "error": self.failing}
