"""Call events (start, queued, overflowed, transferred, joined, left, hungup) for the injected
publisher: ``publish({"type", "incident_id", "call_id", "at", "data"})``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from gateway.logs import log

LOG = logging.getLogger("gateway.telephony.events")
EVENT_TYPES = ("start", "queued", "overflowed", "transferred", "joined", "left", "hungup")


class CallEvents:
    """Builds and publishes call events; a failing publisher is logged, never raised into the
    AMI/AGI path. ``now`` is injectable for tests."""

    def __init__(self, publisher: Any, now: Callable[[], datetime] | None = None):
        self.publisher = publisher
        self.now = now or (lambda: datetime.now(UTC))
        self.published = 0
        self.failed = 0

    def publish(self, type_: str, incident_id: str, call_id: str, **data: Any) -> dict[str, Any]:
        if type_ not in EVENT_TYPES:
            raise ValueError(f"unknown call event type {type_!r}")
        event = {"type": type_, "incident_id": incident_id, "call_id": call_id,
                 "at": self.now().astimezone(UTC).isoformat().replace("+00:00", "Z"), "data": data}
        try:
            result = self.publisher.publish(event)
            if hasattr(result, "addErrback"):
                result.addErrback(self._failed, event)
            self.published += 1
        except Exception as exc:  # the publisher spools; a failure here must not break the call
            self._failed(exc, event)
        return event

    def _failed(self, err: Any, event: dict[str, Any]) -> None:
        self.failed += 1
        msg = err.getErrorMessage() if hasattr(err, "getErrorMessage") else str(err)
        log(LOG, logging.ERROR, "call event publish failed", type=event["type"],
            incident_id=event["incident_id"], error=msg)
