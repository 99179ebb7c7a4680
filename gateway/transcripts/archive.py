"""Write transcripts to the SQLite archive (``transcripts`` + ``transcripts_fts``) exactly once."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

SCHEMA = Path(__file__).resolve().parents[1] / "archive" / "schema.sql"


class TranscriptArchive:
    """The archive's transcript tables; the schema is applied (``CREATE IF NOT EXISTS``) on open."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.executescript(SCHEMA.read_text(encoding="utf-8"))

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.execute("PRAGMA busy_timeout = 30000")
        return db

    def write(self, transcript_id: str, incident_id: str, recording_id: str | None,
              transcript: dict[str, Any], created_at: str) -> bool:
        """Insert the transcript and its search row in one transaction; False if already there."""
        db = self._connect()
        try:
            db.execute("BEGIN IMMEDIATE")
            cur = db.execute(
                "INSERT OR IGNORE INTO transcripts (transcript_id, incident_id, recording_id, text, segments,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (transcript_id, incident_id, recording_id, transcript["text"],
                 json.dumps(transcript, ensure_ascii=False), created_at))
            inserted = cur.rowcount == 1
            if inserted:
                db.execute("INSERT INTO transcripts_fts (text, transcript_id, incident_id) VALUES (?, ?, ?)",
                           (transcript["text"], transcript_id, incident_id))
            db.execute("COMMIT")
            return inserted
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        finally:
            db.close()

    def get(self, transcript_id: str) -> dict[str, Any] | None:
        """The stored transcript document (``speech.Transcript.to_dict()``), or None."""
        db = self._connect()
        try:
            row = db.execute("SELECT segments FROM transcripts WHERE transcript_id = ?",
                             (transcript_id,)).fetchone()
        finally:
            db.close()
        return json.loads(row[0]) if row else None

    def search(self, text: str) -> list[str]:
        """Transcript ids whose text contains ``text`` (trigram full-text search, ≥ 3 characters)."""
        db = self._connect()
        try:
            rows = db.execute("SELECT transcript_id FROM transcripts_fts WHERE transcripts_fts MATCH ?",
                              ('"' + text.replace('"', '""') + '"',)).fetchall()
        finally:
            db.close()
        return [r[0] for r in rows]
