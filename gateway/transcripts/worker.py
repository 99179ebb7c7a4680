"""The transcription worker: takes jobs from the Redis stream, transcribes, archives, calls the hook.

Reliability, with any number of workers on any number of machines:

* Jobs are read through a consumer group; a job stays *pending* until its worker acknowledges it.
* While a job runs its worker renews its claim (``XCLAIM … JUSTID``) every third of
  ``redis.claim_idle_ms``; a killed or stuck worker stops renewing, and after ``claim_idle_ms``
  another worker takes the job over with ``XAUTOCLAIM``. A job running past
  ``transcripts.job_timeout_s`` stops renewing too.
* A failed attempt is left pending and retried the same way; after ``redis.max_deliveries``
  deliveries, or at once for a job that can never succeed (bad job, missing or unusable audio),
  it goes to the dead-letter stream with the reason.
* The archive write is one SQLite transaction keyed by ``transcript_id`` (``INSERT OR IGNORE``):
  a job finished twice is written once, and a retry after the write skips transcription.
  The hook runs after the write, until it has succeeded once (at least once: make it idempotent).
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis as redis_lib

import speech
from gateway.config import Config
from gateway.logs import log
from gateway.transcripts.archive import TranscriptArchive
from gateway.transcripts.jobs import JobError, Keys, now_iso, validate

LOG = logging.getLogger(__name__)

Hook = Callable[[dict[str, Any], dict[str, Any]], Any]
DONE_TTL_S = 7 * 86400
FORGET_CONSUMERS_AFTER_MS = 86_400_000  # a consumer name idle this long with nothing pending is removed


def load_hook(spec: str) -> Hook:
    """``"package.module:function"`` → the function (the ``transcripts.hook`` setting)."""
    module, _, name = spec.partition(":")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"transcripts.hook {spec!r} cannot be loaded: {exc}") from exc


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class Worker:
    """One consumer of the transcription queue (``linkage transcribe-worker`` runs one)."""

    def __init__(self, redis: redis_lib.Redis, config: Config, on_transcribed: Hook | None = None, *,
                 name: str | None = None, transcriber: speech.Transcriber | None = None,
                 archive: TranscriptArchive | None = None):
        self.redis = redis
        self.config = config
        self.keys = Keys(config.redis.key_prefix)
        self.settings = config.gateway.transcripts
        self.group = self.settings.group
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.on_transcribed = on_transcribed
        if self.on_transcribed is None and self.settings.hook:
            self.on_transcribed = load_hook(self.settings.hook)
        self._transcriber = transcriber
        self.archive = archive or TranscriptArchive(config.archive_path)
        self._stop = threading.Event()
        self._next_cleanup = 0.0
        try:
            self.ensure_group()
        except redis_lib.ConnectionError as exc:  # run() retries, and creates the group once Redis is back
            log(LOG, logging.WARNING, "redis unavailable at start", worker=self.name, error=str(exc))

    # -- queue ---------------------------------------------------------------------------------

    def ensure_group(self) -> None:
        try:
            self.redis.xgroup_create(self.keys.stream, self.group, id="0", mkstream=True)
        except redis_lib.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    @property
    def transcriber(self) -> speech.Transcriber:
        if self._transcriber is None:
            model = speech.load_model(self.config.speech_model_path)
            self._transcriber = speech.Transcriber(model, self.config.gateway.speech.sample_rate)
        return self._transcriber

    def stop(self) -> None:
        """Finish the current job, then leave :meth:`run`."""
        self._stop.set()

    def run(self, max_jobs: int | None = None) -> int:
        """Process jobs until :meth:`stop` (or ``max_jobs`` handled); return how many were handled."""
        handled, backoff = 0, 0.5
        log(LOG, logging.INFO, "transcribe worker started", worker=self.name, group=self.group)
        while not self._stop.is_set() and (max_jobs is None or handled < max_jobs):
            try:
                if self.poll(self.settings.block_ms):
                    handled += 1
                backoff = 0.5
            except (redis_lib.ConnectionError, redis_lib.TimeoutError) as exc:
                # Redis is down: nothing is lost (jobs wait in Redis, the archive is idempotent); retry.
                log(LOG, logging.WARNING, "redis unavailable, retrying", worker=self.name, error=str(exc),
                    retry_in_s=backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)
            except redis_lib.ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                self.ensure_group()  # Redis restarted without its data: recreate the group
        log(LOG, logging.INFO, "transcribe worker stopped", worker=self.name, handled=handled)
        return handled

    def poll(self, block_ms: int = 0) -> bool:
        """Take over one abandoned job, else wait up to ``block_ms`` for a new one; handle it."""
        message = self._reclaim() or self._read(block_ms)
        if message is None:
            return False
        self.handle(*message)
        return True

    def forget_idle_consumers(self, min_idle_ms: int = FORGET_CONSUMERS_AFTER_MS) -> list[str]:
        """Remove consumers (workers long gone: names are host:pid) that hold no pending job."""
        gone = []
        for c in self.redis.xinfo_consumers(self.keys.stream, self.group):
            name = _text(c["name"])
            if name != self.name and int(c["pending"]) == 0 and int(c["idle"]) >= min_idle_ms:
                self.redis.xgroup_delconsumer(self.keys.stream, self.group, name)
                gone.append(name)
        if gone:
            log(LOG, logging.INFO, "forgot idle consumers", worker=self.name, consumers=gone)
        return gone

    def _reclaim(self) -> tuple[str, dict[str, str]] | None:
        if time.monotonic() >= self._next_cleanup:
            self._next_cleanup = time.monotonic() + 3600
            self.forget_idle_consumers()
        _, messages, *deleted = self.redis.xautoclaim(self.keys.stream, self.group, self.name,
                                                      self.config.redis.claim_idle_ms, "0-0", count=1)
        gone = [_text(i) for i in (deleted[0] if deleted else [])]
        for msg_id, fields in messages:
            if not fields:  # Redis 6.2 reports entries deleted while pending this way
                gone.append(_text(msg_id))
                continue
            log(LOG, logging.WARNING, "transcription job taken over", worker=self.name, message=_text(msg_id))
            return _text(msg_id), {_text(k): _text(v) for k, v in fields.items()}
        if gone:
            self.redis.xack(self.keys.stream, self.group, *gone)
        return None

    def _read(self, block_ms: int) -> tuple[str, dict[str, str]] | None:
        reply = self.redis.xreadgroup(self.group, self.name, {self.keys.stream: ">"}, count=1,
                                      block=block_ms or None)
        for _, messages in reply or []:
            for msg_id, fields in messages:
                return _text(msg_id), {_text(k): _text(v) for k, v in fields.items()}
        return None

    def _deliveries(self, msg_id: str) -> int:
        rows = self.redis.xpending_range(self.keys.stream, self.group, min=msg_id, max=msg_id, count=1)
        return int(rows[0]["times_delivered"]) if rows else 1

    # -- one job -------------------------------------------------------------------------------

    def handle(self, msg_id: str, fields: dict[str, str]) -> str:
        """Process one delivered message; return ``done``, ``retry`` or ``dead``."""
        deliveries = self._deliveries(msg_id)
        try:
            job = validate(json.loads(fields.get("job", "")))
        except (ValueError, JobError) as exc:
            return self._dead_letter(msg_id, {"raw": fields.get("job")}, f"malformed job: {exc}", deliveries)
        job_key = self.keys.job(job["job_id"])
        if deliveries > self.config.redis.max_deliveries:
            last = _text(self.redis.hget(job_key, "error") or b"") or "worker killed or stuck each time"
            return self._dead_letter(msg_id, job, f"gave up after {deliveries - 1} deliveries: {last}",
                                     deliveries - 1)
        self.redis.hset(job_key, mapping={"status": "processing", "worker": self.name,
                                          "deliveries": deliveries, "started_at": now_iso()})
        log(LOG, logging.INFO, "transcription job started", job_id=job["job_id"], worker=self.name,
            deliveries=deliveries)
        heartbeat = _Heartbeat(self, msg_id)
        try:
            transcript_id = self._process(job, job_key, deliveries)
        except (JobError, speech.AudioError) as exc:
            return self._dead_letter(msg_id, job, f"{type(exc).__name__}: {exc}", deliveries)
        except speech.ModelError:
            raise  # this worker is misconfigured, not the job: leave it pending for another worker
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"
            if deliveries >= self.config.redis.max_deliveries:
                return self._dead_letter(msg_id, job, reason, deliveries)
            self.redis.hset(job_key, mapping={"status": "retrying", "error": reason})
            log(LOG, logging.WARNING, "transcription job failed, will retry", job_id=job["job_id"],
                worker=self.name, deliveries=deliveries, error=reason)
            return "retry"
        finally:
            heartbeat.stop()
        pipe = self.redis.pipeline(transaction=True)
        pipe.xack(self.keys.stream, self.group, msg_id)
        pipe.xdel(self.keys.stream, msg_id)
        pipe.hset(job_key, mapping={"status": "done", "transcript_id": transcript_id,
                                    "finished_at": now_iso()})
        pipe.hdel(job_key, "error")
        pipe.expire(job_key, DONE_TTL_S)
        pipe.execute()
        log(LOG, logging.INFO, "transcription job done", job_id=job["job_id"], worker=self.name,
            transcript_id=transcript_id)
        return "done"

    def _process(self, job: dict[str, Any], job_key: str, deliveries: int) -> str:
        transcript_id = job.get("transcript_id") or job["job_id"]
        doc = self.archive.get(transcript_id)
        if doc is None:
            transcript = self.transcribe(job)
            doc = transcript.to_dict()
            self.archive.write(transcript_id, job["incident_id"], job.get("recording_id"), doc, now_iso())
        else:
            log(LOG, logging.INFO, "transcript already archived", job_id=job["job_id"],
                transcript_id=transcript_id)
        if self.on_transcribed is not None and not self.redis.hget(job_key, "hooked"):
            self.on_transcribed({**job, "transcript_id": transcript_id, "deliveries": deliveries}, doc)
            self.redis.hset(job_key, "hooked", 1)
        return transcript_id

    def transcribe(self, job: dict[str, Any]) -> speech.Transcript:
        """The job's transcript: its legs merged by speaker, or its one file."""
        if job.get("legs"):
            legs = {name: self.transcriber.transcribe_file(self._path(p)) for name, p in job["legs"].items()}
            return speech.merge_legs(legs)
        return self.transcriber.transcribe_file(self._path(job["path"]), job.get("speaker"))

    def _path(self, value: str) -> Path:
        p = Path(value)
        return p if p.is_absolute() else self.config.recordings_dir / p

    def _dead_letter(self, msg_id: str, job: dict[str, Any], reason: str, deliveries: int) -> str:
        pipe = self.redis.pipeline(transaction=True)
        pipe.xadd(self.keys.dead, {"job": json.dumps(job, ensure_ascii=False), "reason": reason,
                                   "deliveries": deliveries, "worker": self.name, "at": now_iso()})
        pipe.xack(self.keys.stream, self.group, msg_id)
        pipe.xdel(self.keys.stream, msg_id)
        if "job_id" in job:
            pipe.hset(self.keys.job(job["job_id"]), mapping={"status": "dead", "error": reason})
        pipe.execute()
        log(LOG, logging.ERROR, "transcription job dead-lettered", job_id=job.get("job_id"), worker=self.name,
            deliveries=deliveries, reason=reason)
        return "dead"


class _Heartbeat:
    """Renews a running job's claim so other workers leave it alone, until stopped or timed out."""

    def __init__(self, worker: Worker, msg_id: str):
        self.worker, self.msg_id = worker, msg_id
        self._done = threading.Event()
        self._deadline = time.monotonic() + worker.settings.job_timeout_s
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{msg_id}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        w = self.worker
        interval = w.config.redis.claim_idle_ms / 3000
        while not self._done.wait(interval) and time.monotonic() < self._deadline:
            try:
                rows = w.redis.xpending_range(w.keys.stream, w.group, min=self.msg_id, max=self.msg_id,
                                              count=1)
                if not rows or _text(rows[0]["consumer"]) != w.name:
                    return  # taken over or finished: not ours to renew
                w.redis.xclaim(w.keys.stream, w.group, w.name, 0, [self.msg_id], justid=True)
            except redis_lib.RedisError as exc:
                log(LOG, logging.WARNING, "heartbeat failed", worker=w.name, error=str(exc))

    def stop(self) -> None:
        self._done.set()
        self._thread.join()
