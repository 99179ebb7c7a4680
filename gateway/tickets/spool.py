"""Disk spool for tickets created while Redis is down; replayed in order when it returns.

One file per ticket, written atomically (tmp + fsync + rename), removed only after Redis holds
the ticket. The ticket id is fixed when spooled, so a replay repeated after a crash is idempotent.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path


class Spool:
    def __init__(self, directory: str | Path):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)

    def put(self, ticket_id: str, payload: str) -> Path:
        name = f"{time.time_ns():020d}-{ticket_id}.json"
        tmp = self.dir / f".{name}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        final = self.dir / name
        os.replace(tmp, final)
        return final

    def files(self) -> list[Path]:
        return sorted(p for p in self.dir.glob("*.json") if not p.name.startswith("."))

    def quarantine(self, path: Path) -> Path:
        """Move a file that cannot be read to ``bad/`` (kept for a person, never replayed again)."""
        bad = self.dir / "bad"
        bad.mkdir(exist_ok=True)
        target = bad / path.name
        os.replace(path, target)
        return target

    def count(self) -> int:
        return len(self.files())

    @contextlib.contextmanager
    def replaying(self) -> Iterator[bool]:
        """An exclusive replay lock across threads and processes; yields False when busy."""
        fh = open(self.dir / ".replay.lock", "w")  # noqa: SIM115
        try:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            fh.close()
