"""Transcription jobs: their shape, their Redis keys, and putting one on the queue.

A job is a JSON object::

    {"job_id": "tx-<incident>",          # optional; a random id when absent; the dedupe key
     "incident_id": "…",                 # required
     "legs": {"caller": "a.wav", "taker": "b.wav"}   # or "path": "mix.wav" (+ "speaker")
     "recording_id": "…",                # optional, stored with the transcript
     "transcript_id": "…",               # optional, defaults to job_id
     …}                                  # anything else is passed through to the hook

Relative paths are relative to ``recordings.dir``.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import redis as redis_lib

# Adds the job once per job_id (unless forced) and atomically with its status record.
_ENQUEUE = """
if redis.call('HSETNX', KEYS[2], 'status', 'queued') == 0 and ARGV[3] ~= '1' then return 0 end
redis.call('HSET', KEYS[2], 'status', 'queued', 'job', ARGV[1], 'enqueued_at', ARGV[2], 'deliveries', 0)
redis.call('HDEL', KEYS[2], 'error', 'worker', 'hooked')
redis.call('XADD', KEYS[1], '*', 'job', ARGV[1])
return 1
"""


class JobError(ValueError):
    """A job that can never succeed as written (missing fields, bad legs)."""


@dataclass(frozen=True)
class Keys:
    """Redis keys of the transcription queue; one hash tag keeps them in one cluster slot."""

    prefix: str = "linkage"

    @property
    def stream(self) -> str:
        return f"{self.prefix}:{{transcripts}}:jobs"

    @property
    def dead(self) -> str:
        return f"{self.prefix}:{{transcripts}}:dead"

    def job(self, job_id: str) -> str:
        return f"{self.prefix}:{{transcripts}}:job:{job_id}"


def validate(job: dict[str, Any]) -> dict[str, Any]:
    """The job with its ``job_id`` filled in; :class:`JobError` saying what is wrong."""
    if not isinstance(job, dict):
        raise JobError(f"a job is a JSON object, got {type(job).__name__}")
    if not isinstance(job.get("incident_id"), str) or not job["incident_id"]:
        raise JobError("job needs an incident_id (string)")
    legs, path = job.get("legs"), job.get("path")
    if (legs is None) == (path is None):
        raise JobError("job needs either legs {speaker: file} or path, not both")
    if legs is not None and (not isinstance(legs, dict) or not legs
                             or not all(isinstance(k, str) and k and isinstance(v, str) and v
                                        for k, v in legs.items())):
        raise JobError("legs must map speaker names to audio file paths, e.g. {\"caller\": \"a.wav\"}")
    if path is not None and (not isinstance(path, str) or not path):
        raise JobError("path must be an audio file path")
    job_id = job.get("job_id") or uuid.uuid4().hex
    if not isinstance(job_id, str):
        raise JobError("job_id must be a string")
    return {**job, "job_id": job_id}


def now_iso() -> str:
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1000):03d}Z"


def enqueue(redis: redis_lib.Redis, job: dict[str, Any], *, prefix: str = "linkage",
            force: bool = False) -> str:
    """Put ``job`` on the queue once and return its id.

    Enqueuing the same ``job_id`` again is a no-op (the first one is queued, running or done)
    unless ``force`` (e.g. to retry a dead-lettered job).
    """
    doc = validate(job)
    keys = Keys(prefix)
    redis.eval(_ENQUEUE, 2, keys.stream, keys.job(doc["job_id"]),
               json.dumps(doc, ensure_ascii=False), now_iso(), "1" if force else "0")
    return doc["job_id"]


def dead_letters(redis: redis_lib.Redis, *, prefix: str = "linkage",
                 count: int = 1000) -> list[dict[str, Any]]:
    """Dead-lettered jobs, oldest first: ``{"id", "job", "reason", "deliveries", "worker", "at"}``."""
    out = []
    for entry_id, fields in redis.xrange(Keys(prefix).dead, count=count):
        doc = {(k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
               for k, v in fields.items()}
        with contextlib.suppress(ValueError):  # a malformed job is shown as the text it was
            doc["job"] = json.loads(doc.get("job", "null"))
        doc["id"] = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
        out.append(doc)
    return out


def requeue_dead(redis: redis_lib.Redis, job_id: str, *, prefix: str = "linkage") -> bool:
    """Put a dead-lettered job back on the queue (after fixing its cause); False if not found."""
    for letter in dead_letters(redis, prefix=prefix, count=100_000):
        job = letter["job"]
        if isinstance(job, dict) and job.get("job_id") == job_id:
            enqueue(redis, job, prefix=prefix, force=True)
            redis.xdel(Keys(prefix).dead, letter["id"])
            return True
    return False
