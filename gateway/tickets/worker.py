"""GatewayWorker: the background duties of a gateway process, one ``run_once`` per tick.

Apply feedback, archive events, take over what dead peers left pending, replay the spool,
trim streams below what the archive holds, raise 督办 for overdue tickets, refresh gauges.
Many workers may run on one Redis: consumer groups share the work, ids keep it exactly-once.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import redis

from gateway.archive import Archive
from gateway.archive.archiver import Archiver
from gateway.feedback import FeedbackWorker
from gateway.logs import log
from gateway.tickets import metrics
from gateway.tickets.keys import QUEUE_GROUP
from gateway.tickets.service import REDIS_DOWN, TicketService
from gateway.tickets.streams import s

LOG = logging.getLogger(__name__)


class GatewayWorker:
    def __init__(
        self,
        service: TicketService,
        archive: Archive,
        name: str,
        *,
        claim_every_s: float = 5.0,
        trim_every_s: float = 30.0,
        sweep_every_s: float = 30.0,
    ):
        self.service, self.archive, self.name = service, archive, name
        self.feedback = FeedbackWorker(service, name)
        self.archiver = Archiver(service.redis, service.config, archive, name)
        self.every = {"claim": claim_every_s, "trim": trim_every_s, "sweep": sweep_every_s}
        self._last = dict.fromkeys(self.every, 0.0)

    def _due(self, what: str) -> bool:
        now = time.monotonic()
        if now - self._last[what] >= self.every[what]:
            self._last[what] = now
            return True
        return False

    def run_once(self) -> dict[str, int]:
        """One tick; returns counts of what it did. Redis errors propagate (the caller retries)."""
        done = {"replayed": 0, "feedback": 0, "archived": 0, "claimed": 0, "trimmed": 0, "escalated": 0}
        if self.service.spool.files():
            done["replayed"] = self.service.replay_spool()
        done["feedback"] = self.feedback.run_once()
        done["archived"] = self.archiver.run_once()
        if self._due("claim"):
            done["claimed"] = self.feedback.claim() + self.archiver.claim()
        if self._due("trim"):
            done["trimmed"] = self.archiver.trim()
        if self._due("sweep"):
            done["escalated"] = len(self.archive.escalate_overdue())
            metrics.TICKETS_OVERDUE.set(self.archive.overdue_count())
            self.refresh_metrics()
        metrics.REDIS_UP.set(1)
        return done

    def refresh_metrics(self) -> None:
        r = self.service.redis
        pipe = r.pipeline(transaction=False)
        codes = self.service.queue_codes()
        for code in codes:
            pipe.xinfo_groups(self.service.keys.queue(code))
        for code, groups in zip(codes, pipe.execute(raise_on_error=False), strict=True):
            if isinstance(groups, Exception):
                continue
            for g in groups:
                if s(g["name"]) == QUEUE_GROUP:
                    metrics.TICKETS_PENDING.labels(code).set(
                        int(g.get("pending") or 0) + int(g.get("lag") or 0)
                    )
        metrics.TICKETS_SPOOLED.set(self.service.spool.count())

    def run(self, stop: threading.Event, idle_s: float = 0.05, progress: Any = None) -> None:
        """Loop until ``stop`` is set; waits while Redis is down, saying so."""
        while not stop.is_set():
            try:
                done = self.run_once()
            except REDIS_DOWN as exc:
                metrics.REDIS_UP.set(0)
                log(LOG, logging.WARNING, "redis unavailable, retrying", error=str(exc))
                stop.wait(1.0)
                continue
            except redis.ResponseError as exc:
                log(LOG, logging.ERROR, "redis error", error=str(exc))
                stop.wait(1.0)
                continue
            if progress and any(done.values()):
                progress(done)
            if not (done["feedback"] or done["archived"]):
                stop.wait(idle_s)


def start_worker_thread(
    service: TicketService, archive: Archive, name: str
) -> tuple[threading.Thread, threading.Event]:
    """Run a :class:`GatewayWorker` in a daemon thread (for ``linkage run``); set the event to stop."""
    stop = threading.Event()
    thread = threading.Thread(
        target=GatewayWorker(service, archive, name).run, args=(stop,), name=f"tickets-{name}", daemon=True
    )
    thread.start()
    return thread, stop
