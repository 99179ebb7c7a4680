"""The SQL archive (SQLite by default): tickets, every event, calls, recordings, transcripts."""
