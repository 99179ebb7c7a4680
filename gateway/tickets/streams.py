"""Small helpers over Redis Streams shared by consumers, feedback workers and archivers."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import redis

from gateway.logs import log

LOG = logging.getLogger(__name__)
Entry = tuple[str, dict[str, str]]


def s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def decode_entry(raw: tuple[Any, dict[Any, Any]]) -> Entry:
    entry_id, fields = raw
    return s(entry_id), {s(k): s(v) for k, v in (fields or {}).items()}


def ensure_group(r: redis.Redis, stream: str, group: str) -> None:
    try:
        r.xgroup_create(stream, group, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def dead_letter(
    r: redis.Redis,
    dead_stream: str,
    *,
    reason: str,
    stream: str,
    entry_id: str,
    fields: dict[str, str],
    group: str | None = None,
) -> None:
    """Move a poison entry to the dead-letter stream with its reason (and ack it in ``group``)."""
    pipe = r.pipeline(transaction=True)
    pipe.xadd(
        dead_stream,
        {
            "reason": reason,
            "stream": stream,
            "entry_id": entry_id,
            "fields": json.dumps(fields, ensure_ascii=False),
        },
    )
    if group:
        pipe.xack(stream, group, entry_id)
    pipe.execute()
    log(LOG, logging.WARNING, "dead-lettered", stream=stream, entry_id=entry_id, reason=reason)


def claim_stale(
    r: redis.Redis,
    stream: str,
    group: str,
    consumer: str,
    *,
    min_idle_ms: int,
    max_deliveries: int,
    dead_stream: str,
    count: int = 100,
    on_dead: Callable[[str, dict[str, str], str], None] | None = None,
) -> list[Entry]:
    """``XAUTOCLAIM`` entries idle past ``min_idle_ms`` (their consumer died); entries delivered
    more than ``max_deliveries`` times are dead-lettered instead of returned."""
    out: list[Entry] = []
    start = "0-0"
    while True:
        res = r.xautoclaim(stream, group, consumer, min_idle_ms, start_id=start, count=count)
        next_id, claimed = s(res[0]), res[1]
        entries = [decode_entry(e) for e in claimed if e and e[1] is not None]
        if entries:
            counts = {
                s(p["message_id"]): int(p["times_delivered"])
                for p in r.xpending_range(
                    stream,
                    group,
                    min=entries[0][0],
                    max=entries[-1][0],
                    count=len(entries) * 4 + 10,
                    consumername=consumer,
                )
            }
            for entry_id, fields in entries:
                n = counts.get(entry_id, 1)
                if n > max_deliveries:
                    reason = f"delivered {n} times (max_deliveries {max_deliveries}); consumer keeps failing"
                    dead_letter(
                        r,
                        dead_stream,
                        reason=reason,
                        stream=stream,
                        entry_id=entry_id,
                        fields=fields,
                        group=group,
                    )
                    if on_dead:
                        on_dead(entry_id, fields, reason)
                else:
                    out.append((entry_id, fields))
        if next_id == "0-0" or len(out) >= count:
            return out
        start = next_id


def _id_tuple(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


def acked_floor(r: redis.Redis, stream: str, group: str) -> tuple[int, int] | None:
    """Every entry strictly below the returned id is acknowledged by ``group``."""
    try:
        groups = {s(g["name"]): g for g in r.xinfo_groups(stream)}
    except redis.ResponseError:  # no such stream yet
        return None
    g = groups.get(group)
    if g is None:
        return None
    last = _id_tuple(s(g["last-delivered-id"]))
    floor = (last[0], last[1] + 1)
    summary = r.xpending(stream, group)
    if summary and summary.get("pending"):
        floor = min(floor, _id_tuple(s(summary["min"])))
    return floor


def trim_below(r: redis.Redis, stream: str, floor: tuple[int, int]) -> int:
    """Trim the entries strictly below ``floor`` (an id as ``(ms, seq)``)."""
    if floor <= (0, 0):
        return 0
    return int(r.xtrim(stream, minid=f"{floor[0]}-{floor[1]}", approximate=False))
