"""When a call leg ends: archive its recordings and queue them for transcription."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from twisted.internet import threads

from gateway.archive import Archive
from gateway.config import Config
from gateway.logs import log
from gateway.transcripts import enqueue

LOG = logging.getLogger(__name__)
SIDES = {"CallerLeg": "caller", "TakerLeg": "taker", "Mixed": "mix"}


class RecordingsOnHangup:
    """A ``CallTracker`` hang-up listener (the dialplan reports the files in a UserEvent)."""

    def __init__(self, config: Config, redis: Any, archive: Archive):
        self.config = config
        self.redis = redis
        self.archive = archive
        self.root = config.recordings_dir

    def _relative(self, path: str) -> str:
        p = Path(path)
        try:
            return str(p.resolve().relative_to(self.root.resolve())) if p.is_absolute() else path
        except ValueError:
            return path  # outside the recordings dir: kept as Asterisk wrote it

    def _files(self, call: Any) -> dict[str, str]:
        rec = call.extra.get("recording_files") or {}
        if rec:
            return rec
        # CallTracker keeps the reported paths in order: mixed, caller leg, taker leg
        paths = call.extra.get("recordings") or []
        return {side: p for side, p in zip(("mix", "caller", "taker"), paths, strict=False)}

    def _store(self, call: Any) -> None:
        files = self._files(call)
        if not files:
            return
        leg = getattr(call, "desk", None) or "110"
        for side, path in files.items():
            rel = self._relative(path)
            self.archive.record_recording(f"{call.call_id}-{side}", call.incident_id, leg, side, rel,
                                          call_id=call.call_id)
        legs = {s: self._relative(p) for s, p in files.items() if s in ("caller", "taker")}
        job: dict[str, Any] = {"job_id": f"tx-{call.call_id}", "incident_id": call.incident_id,
                               "recording_id": f"{call.call_id}-mix", "leg": leg}
        if legs:
            job["legs"] = legs
        else:
            job["path"] = self._relative(files["mix"])
        enqueue(self.redis, job, prefix=self.config.redis.key_prefix)

    def __call__(self, call: Any) -> None:
        d = threads.deferToThread(self._store, call)
        d.addErrback(lambda f: log(LOG, logging.ERROR, "recording not archived/queued",
                                   incident_id=call.incident_id, error=f.getErrorMessage()))


__all__ = ["RecordingsOnHangup"]
