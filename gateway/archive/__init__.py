"""The SQL archive (SQLite by default): tickets, every event, calls, recordings, transcripts."""

from gateway.archive.store import Archive

__all__ = ["Archive"]
