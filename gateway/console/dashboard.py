"""Dashboard figures: today's calls and diversions, overdue tickets, per-agency rates.

Rates over tickets created in the window (default 30 days), per agency:
响应率 response = tickets with an ``accepted`` event / tickets; 解决率 resolution = tickets handled or
closed / tickets; 满意率 satisfaction = satisfied or basically satisfied / rated tickets.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Any

from gateway.console.search import LOCAL_TZ

EMERGENCY_ROUTES = ("police", "fire", "medical", "emergency")


def _utc(d: dt.datetime) -> str:
    return d.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def day_bounds(day: dt.date) -> tuple[str, str]:
    start = dt.datetime.combine(day, dt.time(), LOCAL_TZ)
    return _utc(start), _utc(start + dt.timedelta(days=1))


def figures(
    conn: sqlite3.Connection, now: dt.datetime, agency_names: dict[str, str], window_days: int = 30
) -> dict[str, Any]:
    day = now.astimezone(LOCAL_TZ).date()
    lo, hi = day_bounds(day)
    one = lambda sql, *p: conn.execute(sql, p).fetchone()[0]  # noqa: E731
    counts = {
        "calls_today": one(
            "SELECT COUNT(DISTINCT incident_id) FROM calls WHERE started_at >= ? AND started_at < ?", lo, hi
        ),
        "diverted": one(
            "SELECT COUNT(*) FROM tickets WHERE source = '110_transfer' AND created_at >= ?"
            " AND created_at < ?",
            lo,
            hi,
        ),
        "overflowed": one(
            "SELECT COUNT(*) FROM (SELECT incident_id FROM calls WHERE outcome = 'overflowed'"
            " AND started_at >= ? AND started_at < ? UNION SELECT incident_id FROM call_events"
            " WHERE type = 'overflowed' AND at >= ? AND at < ?)",
            lo,
            hi,
            lo,
            hi,
        ),
        "handed_back": one(
            "SELECT COUNT(*) FROM tickets WHERE source IN ('12345_direct', 'overflow_ivr')"
            f" AND route IN ({', '.join('?' * len(EMERGENCY_ROUTES))})"
            " AND created_at >= ? AND created_at < ?",
            *EMERGENCY_ROUTES,
            lo,
            hi,
        ),
        "overdue_tickets": one("SELECT COUNT(*) FROM tickets WHERE overdue = 1 AND status != 'closed'"),
    }
    since = _utc(now - dt.timedelta(days=window_days))
    rows = conn.execute(
        "SELECT t.agency, COUNT(*) AS total,"
        " SUM(EXISTS (SELECT 1 FROM ticket_events e WHERE e.ticket_id = t.ticket_id AND e.type = 'accepted'))"
        "   AS responded,"
        " SUM(t.status IN ('handled', 'closed') OR EXISTS (SELECT 1 FROM ticket_events e"
        "   WHERE e.ticket_id = t.ticket_id AND e.type = 'handled')) AS resolved,"
        " SUM(t.satisfaction IS NOT NULL) AS rated,"
        " SUM(t.satisfaction IN ('satisfied', 'basically_satisfied')) AS satisfied"
        " FROM tickets t WHERE t.agency IS NOT NULL AND t.created_at >= ?"
        " GROUP BY t.agency ORDER BY t.agency",
        (since,),
    ).fetchall()
    agencies = []
    for r in rows:
        agencies.append(
            {
                "agency": r["agency"],
                "name": agency_names.get(r["agency"], r["agency"]),
                "tickets": r["total"],
                "response_rate": r["responded"] / r["total"],
                "resolution_rate": r["resolved"] / r["total"],
                "satisfaction_rate": (r["satisfied"] / r["rated"]) if r["rated"] else None,
                "rated": r["rated"],
            }
        )
    return {"day": day.isoformat(), **counts, "window_days": window_days, "agencies": agencies}
