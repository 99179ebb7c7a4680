"""Recording retention: delete audio past ``recordings.retention_days``; keep the row, set deleted_at."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

from gateway.console.db import iso
from gateway.console.media import safe_path


def purge(conn: sqlite3.Connection, recordings_dir: Path, retention_days: int, now: float) -> dict[str, Any]:
    """Delete expired audio files; every expired row gets ``deleted_at`` even when its file was gone."""
    cutoff = iso(now - retention_days * 86400)
    rows = conn.execute(
        "SELECT recording_id, path FROM recordings WHERE deleted_at IS NULL AND created_at < ?", (cutoff,)
    ).fetchall()
    deleted, missing, refused = [], [], []
    for r in rows:
        path = safe_path(recordings_dir, r["path"])
        if path is None:
            refused.append(r["recording_id"])  # outside the recordings dir: never delete it
            continue
        try:
            path.unlink()
            deleted.append(r["recording_id"])
        except FileNotFoundError:
            missing.append(r["recording_id"])
        conn.execute(
            "UPDATE recordings SET deleted_at = ? WHERE recording_id = ?", (iso(now), r["recording_id"])
        )
    return {
        "cutoff": cutoff,
        "deleted": deleted,
        "already_missing": missing,
        "refused": refused,
        "at": dt.datetime.fromtimestamp(now, dt.UTC).isoformat(),
    }
