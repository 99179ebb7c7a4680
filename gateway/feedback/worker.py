"""FeedbackWorker: reads ``feedback:<agency>`` in the ``gateway`` group and applies each update.

An entry holds one event or a list applied in order. Malformed events and unknown tickets go to
``dead:<agency>`` with the reason; impossible transitions are recorded (``rejected_transition``)
and acknowledged; a worker that dies leaves its entries pending for another to claim.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import redis

from gateway.logs import log
from gateway.tickets import metrics
from gateway.tickets.keys import FEEDBACK_GROUP
from gateway.tickets.service import BadEvent, TicketService
from gateway.tickets.states import EarlyEvent, InvalidTransition
from gateway.tickets.streams import claim_stale, dead_letter, decode_entry, ensure_group

LOG = logging.getLogger(__name__)


class FeedbackWorker:
    def __init__(self, service: TicketService, consumer_name: str):
        self.service, self.name = service, consumer_name
        self.redis: redis.Redis = service.redis
        self.keys = service.keys
        self.codes = service.queue_codes()
        for code in self.codes:
            ensure_group(self.redis, self.keys.feedback(code), FEEDBACK_GROUP)

    def handle(self, code: str, entry_id: str, fields: dict[str, str], *, first: bool = True) -> None:
        """Apply one entry. On its first delivery an update that arrived before its predecessor
        (two workers, or an agency posting out of order) is left pending; when it is claimed
        again after ``claim_idle_ms`` it is applied, or rejected if still impossible."""
        stream = self.keys.feedback(code)
        ack = (stream, FEEDBACK_GROUP, entry_id)
        try:
            payload: Any = json.loads(fields["event"])
            events = payload if isinstance(payload, list) else [payload]
            if not events or not all(isinstance(e, dict) for e in events):
                raise BadEvent("feedback entry must hold an event object or a non-empty list of them")
        except (KeyError, ValueError) as exc:
            reason = exc.args[0] if isinstance(exc, BadEvent) else f"unreadable feedback entry: {exc!r}"
            self._dead(code, entry_id, fields, reason)
            return
        start = self.service.apply_feedback_run(events, ack=ack, agency=code, defer_early=first)
        if start == len(events):
            return
        for i, ev in enumerate(events[start:], start):
            last = i == len(events) - 1
            try:
                self.service.apply_feedback(ev, ack=ack if last else None, agency=code, defer_early=first)
            except EarlyEvent:
                return  # stays pending: retried by claim()
            except InvalidTransition:
                continue  # recorded as an event (and acked with the last one)
            except BadEvent as exc:
                self._dead(code, entry_id, {**fields, "event": json.dumps(ev, ensure_ascii=False)}, str(exc))
                return
        # the last event may have been rejected or dead: make sure the entry is acked
        self.redis.xack(stream, FEEDBACK_GROUP, entry_id)

    def _dead(self, code: str, entry_id: str, fields: dict[str, str], reason: str) -> None:
        dead_letter(
            self.redis,
            self.keys.dead(code),
            reason=reason,
            stream=self.keys.feedback(code),
            entry_id=entry_id,
            fields=fields,
            group=FEEDBACK_GROUP,
        )
        metrics.DEAD_LETTERED.labels("feedback").inc()

    def run_once(self, count: int = 200) -> int:
        pipe = self.redis.pipeline(transaction=False)
        for code in self.codes:
            pipe.xreadgroup(FEEDBACK_GROUP, self.name, {self.keys.feedback(code): ">"}, count=count)
        n = 0
        for code, res in zip(self.codes, pipe.execute(), strict=True):
            for _stream, raw in res or []:
                for e in raw:
                    entry_id, fields = decode_entry(e)
                    self.handle(code, entry_id, fields)
                    n += 1
        return n

    def claim(self) -> int:
        """Take over entries a dead worker left pending; poison entries are dead-lettered."""
        n = 0
        cfg = self.service.config.redis
        for code in self.codes:
            for entry_id, fields in claim_stale(
                self.redis,
                self.keys.feedback(code),
                FEEDBACK_GROUP,
                self.name,
                min_idle_ms=cfg.claim_idle_ms,
                max_deliveries=cfg.max_deliveries,
                dead_stream=self.keys.dead(code),
            ):
                self.handle(code, entry_id, fields, first=False)
                n += 1
        if n:
            log(LOG, logging.INFO, "feedback claimed", entries=n, consumer=self.name)
        return n
