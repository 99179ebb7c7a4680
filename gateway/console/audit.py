"""The audit log: every search, view, playback and download (who, what, when)."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable

from gateway.console.auth import User
from gateway.console.db import iso

ACTIONS = ("search", "view", "playback", "download", "login", "login_failed", "logout", "retention", "denied")


class AuditLog:
    def __init__(self, conn: sqlite3.Connection, clock: Callable[[], float] = time.time):
        self.conn = conn
        self.clock = clock

    def record(
        self,
        user: User | None,
        action: str,
        target: str | None = None,
        detail: dict[str, object] | None = None,
        ip: str | None = None,
        user_name: str | None = None,
    ) -> None:
        self.conn.execute(
            "INSERT INTO audit_log (at, user_id, user_name, action, target, detail, ip)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                iso(self.clock()),
                user.user_id if user else None,
                user.name if user else user_name,
                action,
                target,
                json.dumps(detail or {}, ensure_ascii=False),
                ip,
            ),
        )

    def query(
        self, user: str = "", action: str = "", target: str = "", limit: int = 200, offset: int = 0
    ) -> list[dict[str, object]]:
        where, params = ["1 = 1"], []  # type: tuple[list[str], list[object]]
        if user:
            where.append("user_name = ?")
            params.append(user)
        if action:
            where.append("action = ?")
            params.append(action)
        if target:
            where.append("target = ?")
            params.append(target)
        rows = self.conn.execute(
            "SELECT audit_id, at, user_name, action, target, detail, ip FROM audit_log"
            f" WHERE {' AND '.join(where)}"
            " ORDER BY audit_id DESC LIMIT ? OFFSET ?",
            [*params, min(limit, 1000), offset],
        ).fetchall()
        return [{**dict(r), "detail": json.loads(r["detail"] or "{}")} for r in rows]
