"""Copies every ``events:<agency>`` stream into the archive (once per event), then trims the
streams, but only below what the archive holds and every consumer group has acknowledged."""

from __future__ import annotations

import json
import logging
from typing import Any

import redis

from gateway.archive.store import Archive
from gateway.config import Config
from gateway.logs import log
from gateway.tickets.keys import ARCHIVE_GROUP, FEEDBACK_GROUP, QUEUE_GROUP, UNROUTED, Keys
from gateway.tickets.streams import acked_floor, claim_stale, decode_entry, ensure_group, trim_below

LOG = logging.getLogger(__name__)


class Archiver:
    def __init__(self, redis: redis.Redis, config: Config, archive: Archive, consumer_name: str):
        self.redis, self.config, self.archive, self.name = redis, config, archive, consumer_name
        self.keys = Keys(config.redis.key_prefix)
        self.codes = [*sorted(config.agencies.agencies), *sorted(config.agencies.desks), UNROUTED]
        for code in self.codes:
            ensure_group(redis, self.keys.events(code), ARCHIVE_GROUP)

    def _store(self, stream: str, entries: list[tuple[str, dict[str, str]]], dead: str) -> int:
        events: list[dict[str, Any]] = []
        ids = []
        for entry_id, fields in entries:
            try:
                events.append(json.loads(fields["event"]))
                ids.append(entry_id)
            except (KeyError, ValueError) as exc:
                from gateway.tickets.streams import dead_letter

                dead_letter(
                    self.redis,
                    dead,
                    reason=f"unreadable event: {exc}",
                    stream=stream,
                    entry_id=entry_id,
                    fields=fields,
                    group=ARCHIVE_GROUP,
                )
        new = self.archive.record_events(events)
        if ids:
            self.redis.xack(stream, ARCHIVE_GROUP, *ids)
        return new

    def run_once(self, count: int = 500) -> int:
        """Archive what is waiting (claiming what a dead archiver left); returns entries processed."""
        pipe = self.redis.pipeline(transaction=False)
        for code in self.codes:
            pipe.xreadgroup(ARCHIVE_GROUP, self.name, {self.keys.events(code): ">"}, count=count)
        n = 0
        for code, res in zip(self.codes, pipe.execute(), strict=True):
            for stream_name, raw in res or []:
                entries = [decode_entry(e) for e in raw]
                if entries:
                    self._store(
                        stream_name.decode() if isinstance(stream_name, bytes) else stream_name,
                        entries,
                        self.keys.dead(code),
                    )
                    n += len(entries)
        return n

    def claim(self) -> int:
        n = 0
        for code in self.codes:
            stream = self.keys.events(code)
            entries = claim_stale(
                self.redis,
                stream,
                ARCHIVE_GROUP,
                self.name,
                min_idle_ms=self.config.redis.claim_idle_ms,
                max_deliveries=self.config.redis.max_deliveries,
                dead_stream=self.keys.dead(code),
            )
            if entries:
                self._store(stream, entries, self.keys.dead(code))
                n += len(entries)
        return n

    def trim(self, force: bool = False) -> int:
        """Trim each stream past ``stream_maxlen`` below the archived-and-acked floor."""
        maxlen = self.config.redis.stream_maxlen
        removed = 0
        for code in self.codes:
            ev = self.keys.events(code)
            archived = acked_floor(self.redis, ev, ARCHIVE_GROUP)
            if archived is None:
                continue
            if force or self.redis.xlen(ev) > maxlen:
                removed += trim_below(self.redis, ev, archived)
            if code == UNROUTED:
                continue
            # A queue entry and its "created" event are written by one script, which sees one
            # clock: both carry the same millisecond, so entries below the archived floor's
            # millisecond are held by the archive.
            held = (archived[0], 0)
            for stream, group in (
                (self.keys.queue(code), QUEUE_GROUP),
                (self.keys.feedback(code), FEEDBACK_GROUP),
            ):
                if not (force or self.redis.xlen(stream) > maxlen):
                    continue
                acked = acked_floor(self.redis, stream, group)
                if acked is not None:
                    removed += trim_below(self.redis, stream, min(held, acked))
        if removed:
            log(LOG, logging.INFO, "streams trimmed", entries=removed)
        return removed
