"""AgencyConsumer: one member of an agency's consumer group on ``tickets:<agency>``.

Reads new tickets, takes over tickets a dead colleague left pending (``XAUTOCLAIM``), posts
feedback on ``feedback:<agency>`` with ids that make a repeat harmless, and acks.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import redis
from pydantic import ValidationError

from gateway.config import Config
from gateway.tickets import metrics
from gateway.tickets.keys import FEEDBACK_GROUP, QUEUE_GROUP, Keys
from gateway.tickets.model import Ticket, iso, utcnow
from gateway.tickets.streams import claim_stale, dead_letter, decode_entry, ensure_group


@dataclass
class Delivery:
    entry_id: str
    ticket: Ticket
    created_ms: int | None = None  # when the gateway queued it (for latency figures)
    read_ms: int | None = None
    claimed: bool = False


class AgencyConsumer:
    def __init__(self, redis: redis.Redis, config: Config, agency: str, consumer_name: str):
        if agency not in config.agencies.agencies and agency not in config.agencies.desks:
            valid = sorted(config.agencies.agencies) + sorted(config.agencies.desks)
            raise ValueError(f"unknown agency {agency!r}; valid codes: {', '.join(valid)}")
        self.redis, self.config, self.agency, self.name = redis, config, agency, consumer_name
        self.keys = Keys(config.redis.key_prefix)
        self.queue = self.keys.queue(agency)
        ensure_group(redis, self.queue, QUEUE_GROUP)
        ensure_group(redis, self.keys.feedback(agency), FEEDBACK_GROUP)
        self._last_claim = 0.0

    def _parse(self, entry_id: str, fields: dict[str, str], claimed: bool) -> Delivery | None:
        try:
            ticket = Ticket.model_validate_json(fields["doc"])
        except (KeyError, ValidationError) as exc:
            dead_letter(
                self.redis,
                self.keys.dead(self.agency),
                reason=f"unreadable ticket entry: {exc}",
                stream=self.queue,
                entry_id=entry_id,
                fields=fields,
                group=QUEUE_GROUP,
            )
            metrics.DEAD_LETTERED.labels("tickets").inc()
            return None
        created = int(fields["t"]) if fields.get("t", "").isdigit() else None
        return Delivery(entry_id, ticket, created, int(time.time() * 1000), claimed)

    def claim(self, min_idle_ms: int | None = None, count: int = 100) -> list[Delivery]:
        """Tickets a dead consumer read but never acked (idle past ``claim_idle_ms``)."""
        cfg = self.config.redis
        entries = claim_stale(
            self.redis,
            self.queue,
            QUEUE_GROUP,
            self.name,
            min_idle_ms=cfg.claim_idle_ms if min_idle_ms is None else min_idle_ms,
            max_deliveries=cfg.max_deliveries,
            dead_stream=self.keys.dead(self.agency),
            count=count,
        )
        return [d for e in entries if (d := self._parse(*e, claimed=True))]

    def read(
        self, count: int = 10, block_ms: int | None = 1000, claim_every_s: float = 1.0
    ) -> list[Delivery]:
        """Claimed stale tickets first, then new ones (blocking up to ``block_ms``)."""
        out: list[Delivery] = []
        now = time.monotonic()
        if now - self._last_claim >= claim_every_s:
            self._last_claim = now
            out = self.claim(count=count)
            if out:
                return out
        res = self.redis.xreadgroup(QUEUE_GROUP, self.name, {self.queue: ">"}, count=count, block=block_ms)
        for _stream, raw in res or []:
            for e in raw:
                d = self._parse(*decode_entry(e), claimed=False)
                if d:
                    out.append(d)
        return out

    def event(self, d: Delivery, type_: str, **data: Any) -> dict[str, Any]:
        """A feedback event whose id (ticket, hop, type) makes a repeat after a crash harmless."""
        return {
            "event_id": f"{d.ticket.ticket_id}:{d.ticket.hop}:{type_}",
            "ticket_id": d.ticket.ticket_id,
            "type": type_,
            "hop": d.ticket.hop,
            "at": iso(utcnow()),
            "actor": f"{self.agency}/{self.name}",
            "data": data,
        }

    def post(self, events: list[dict[str, Any]]) -> None:
        """Post events as one ``feedback:<agency>`` entry (applied in order by one worker)."""
        self.redis.xadd(self.keys.feedback(self.agency), {"event": json.dumps(events, ensure_ascii=False)})

    def ack(self, *deliveries: Delivery) -> None:
        if deliveries:
            self.redis.xack(self.queue, QUEUE_GROUP, *[d.entry_id for d in deliveries])

    def pending(self) -> int:
        summary = self.redis.xpending(self.queue, QUEUE_GROUP)
        return int(summary["pending"]) if summary else 0
