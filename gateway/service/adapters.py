"""Adapters between the reactor and the blocking stage APIs (redis-py, SQLite, Vosk)."""

from __future__ import annotations

import logging
import threading
from typing import Any

from twisted.internet import defer, threads

from gateway.archive import Archive
from gateway.config import Config
from gateway.logs import log
from gateway.tickets import TicketService

LOG = logging.getLogger(__name__)
CALL_EVENTS_MAXLEN = 100_000


class ThreadedTickets:
    """``create(draft) -> Deferred[dict]`` for telephony; the ticket service runs in a thread."""

    def __init__(self, service: TicketService):
        self.service = service

    def _create(self, draft: dict[str, Any]) -> dict[str, Any]:
        draft = dict(draft)
        if draft.get("kind") == "callback" and not draft.get("summary"):
            draft["summary"] = "需回拨来电人"
        if not draft.get("agency") and draft.get("route") == "hotline":
            draft["route"] = "review"  # a person dispatches it rather than losing it
        return self.service.create(draft).model_dump(mode="json")

    def create(self, draft: dict[str, Any]) -> defer.Deferred:
        return threads.deferToThread(self._create, draft)


class CallEventPublisher:
    """Archives each call event and appends it to the shared ``calls`` stream for other readers."""

    def __init__(self, redis: Any, archive: Archive, prefix: str):
        self.redis = redis
        self.archive = archive
        self.stream = f"{prefix}:{{calls}}:events"

    def _publish(self, event: dict[str, Any]) -> None:
        import json
        import uuid

        event = {"event_id": event.get("event_id") or uuid.uuid4().hex, **event}
        self.archive.record_call_event(event)
        try:
            self.redis.xadd(self.stream, {"event": json.dumps(event, ensure_ascii=False)},
                            maxlen=CALL_EVENTS_MAXLEN, approximate=True)
        except Exception as exc:  # the archive already holds it; the stream is a convenience feed
            log(LOG, logging.WARNING, "call event not streamed (archived)", error=str(exc))

    def publish(self, event: dict[str, Any]) -> defer.Deferred:
        return threads.deferToThread(self._publish, event)


class IvrTranscriber:
    """``transcribe(path) -> Deferred[str]``: the overflow recording through Vosk, model loaded once."""

    def __init__(self, config: Config):
        self.config = config
        self._transcriber: Any = None
        self._lock = threading.Lock()

    def _get(self) -> Any:
        with self._lock:
            if self._transcriber is None:
                import speech

                model = speech.load_model(self.config.speech_model_path)
                self._transcriber = speech.Transcriber(model, self.config.gateway.speech.sample_rate)
            return self._transcriber

    def _run(self, path: str) -> str:
        return self._get().transcribe_file(path).text

    def __call__(self, path: str) -> defer.Deferred:
        return threads.deferToThread(self._run, path)
