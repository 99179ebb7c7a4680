"""What each role may see, as SQL over incident ids (parameterised)."""

from __future__ import annotations

import sqlite3

from gateway.console.auth import User


def incident_scope(user: User, column: str = "incident_id") -> tuple[str, list[object]]:
    """A WHERE fragment limiting ``column`` to the incidents ``user`` may see.

    Supervisors see every incident; call-takers those with a leg they answered; agencies those
    with a ticket assigned to them.
    """
    if user.role == "supervisor":
        return "1 = 1", []
    if user.role == "call_taker":
        return f"{column} IN (SELECT incident_id FROM calls WHERE agent = ?)", [user.agent_id or user.name]
    return f"{column} IN (SELECT incident_id FROM tickets WHERE agency = ?)", [user.agency or ""]


def may_see_incident(conn: sqlite3.Connection, user: User, incident_id: str) -> bool:
    if user.role == "supervisor":
        return True
    where, params = incident_scope(user, "?")
    row = conn.execute(f"SELECT 1 WHERE {where}", [incident_id, *params]).fetchone()
    return row is not None
