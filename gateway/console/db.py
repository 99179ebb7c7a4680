"""The archive database as the console uses it: one connection, the archive and console schemas."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from gateway.config import Config

ARCHIVE_SCHEMA = Path(__file__).resolve().parents[1] / "archive" / "schema.sql"
CONSOLE_SCHEMA = Path(__file__).with_name("schema.sql")


def connect(config: Config) -> sqlite3.Connection:
    """Open (creating if needed) the archive with the console's own tables; rows as ``sqlite3.Row``."""
    path = config.archive_path
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=10, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout = 10000")
    conn.executescript(ARCHIVE_SCHEMA.read_text(encoding="utf-8"))
    conn.executescript(CONSOLE_SCHEMA.read_text(encoding="utf-8"))
    return conn


def iso(ts: float) -> str:
    """Unix seconds as the archive's ISO-8601 UTC form."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts * 1000) % 1000:03d}Z"
