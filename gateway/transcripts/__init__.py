"""Transcription jobs on Redis: :func:`enqueue` a recording, :class:`Worker` processes the queue."""

from gateway.transcripts.archive import TranscriptArchive
from gateway.transcripts.jobs import JobError, Keys, dead_letters, enqueue, requeue_dead, validate
from gateway.transcripts.worker import Worker, load_hook

__all__ = ["JobError", "Keys", "TranscriptArchive", "Worker", "dead_letters", "enqueue", "load_hook",
           "requeue_dead", "validate"]
