"""Incident search: caller number, dates, route, agency, status, overdue, transcript text.

Every value reaches SQLite as a bound parameter; full text uses the ``transcripts_fts`` trigram
index for queries of three or more characters and a LIKE scan for shorter ones.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import phonenumbers

from gateway.console.access import incident_scope
from gateway.console.auth import User

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
MAX_LIMIT = 200
STATUSES = (
    "created",
    "delivered",
    "accepted",
    "arrived",
    "handled",
    "returned",
    "closed",
    "rerouted",
    "extension_requested",
    "escalated",
    "dead_lettered",
)


class SearchError(ValueError):
    """A search parameter is malformed; the message names it."""


@dataclass
class Query:
    caller: str = ""
    date_from: str = ""
    date_to: str = ""
    route: str = ""
    agency: str = ""
    status: str = ""
    overdue: bool = False
    text: str = ""
    limit: int = 50
    offset: int = 0
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_args(cls, args: dict[str, str]) -> Query:
        def num(name: str, default: int, hi: int) -> int:
            raw = args.get(name, "")
            if not raw:
                return default
            if not raw.isdigit():
                raise SearchError(f"{name}: expected a whole number, got {raw!r}")
            return min(int(raw), hi)

        return cls(
            caller=args.get("caller", "").strip(),
            date_from=args.get("from", "").strip(),
            date_to=args.get("to", "").strip(),
            route=args.get("route", "").strip(),
            agency=args.get("agency", "").strip(),
            status=args.get("status", "").strip(),
            overdue=args.get("overdue", "") in ("1", "true", "on", "yes"),
            text=args.get("q", "").strip(),
            limit=max(1, num("limit", 50, MAX_LIMIT)),
            offset=num("offset", 0, 10**9),
        )

    def describe(self) -> dict[str, object]:
        """The non-empty criteria, for the audit log (caller number masked)."""
        from gateway.logs import mask_phone

        out: dict[str, object] = {}
        for key in ("caller", "date_from", "date_to", "route", "agency", "status", "text"):
            value = getattr(self, key)
            if value:
                out[key] = mask_phone(value) if key == "caller" else value
        if self.overdue:
            out["overdue"] = True
        return out


def normalise_caller(raw: str) -> tuple[str, str]:
    """("exact", E.164) for a valid number in any format (region CN), ("digits", d) for a fragment."""
    digits = re.sub(r"\D", "", raw)
    try:
        num = phonenumbers.parse(raw, "CN")
        if phonenumbers.is_valid_number(num):
            return "exact", phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        pass
    if len(digits) >= 3:
        return "digits", digits
    raise SearchError(f"caller: not a phone number or at least 3 of its digits: {raw!r}")


def _day_bound(value: str, name: str, end: bool) -> str:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError as exc:
        raise SearchError(f"{name}: expected a date YYYY-MM-DD, got {value!r}") from exc
    if end:
        day += dt.timedelta(days=1)
    start = dt.datetime.combine(day, dt.time(), LOCAL_TZ).astimezone(dt.UTC)
    return start.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _fts_phrase(text: str) -> str:
    """The text as one FTS5 string (a phrase); quotes doubled so nothing is parsed as syntax."""
    return '"' + text.replace('"', '""') + '"'


# An incident starts at its first call (or ticket, for one without calls). The id conditions are
# applied inside both halves so SQLite narrows by index before grouping.
INCIDENTS_SQL = """
SELECT incident_id, MIN(t) AS started_at FROM (
    SELECT x.incident_id, x.started_at AS t FROM calls x WHERE {where}
    UNION ALL
    SELECT x.incident_id, x.created_at AS t FROM tickets x WHERE {where}
) GROUP BY incident_id HAVING {having}
"""


def search(conn: sqlite3.Connection, user: User, q: Query) -> dict[str, object]:
    """Incidents matching ``q`` that ``user`` may see, newest first, with legs and tickets summarised."""
    where: list[str] = []
    params: list[object] = []
    scope, scope_params = incident_scope(user, "x.incident_id")
    where.append(scope)
    params += scope_params
    if q.caller:
        kind, value = normalise_caller(q.caller)
        if kind == "exact":
            where.append(
                "(x.incident_id IN (SELECT incident_id FROM calls WHERE caller_e164 = ?)"
                " OR x.incident_id IN (SELECT incident_id FROM tickets WHERE caller_e164 = ?))"
            )
            params += [value, value]
        else:
            pat = f"%{value}%"
            where.append(
                "(x.incident_id IN (SELECT incident_id FROM calls WHERE caller_e164 LIKE ?"
                " OR caller_raw LIKE ?) OR x.incident_id IN (SELECT incident_id FROM tickets"
                " WHERE caller_e164 LIKE ? OR caller_raw LIKE ?))"
            )
            params += [pat, pat, pat, pat]
    having: list[str] = ["1 = 1"]
    having_params: list[object] = []
    if q.date_from:
        having.append("MIN(t) >= ?")
        having_params.append(_day_bound(q.date_from, "from", end=False))
    if q.date_to:
        having.append("MIN(t) < ?")
        having_params.append(_day_bound(q.date_to, "to", end=True))
    ticket_conds: list[str] = []
    ticket_params: list[object] = []
    for col, value in (("route", q.route), ("agency", q.agency), ("status", q.status)):
        if value:
            ticket_conds.append(f"{col} = ?")
            ticket_params.append(value)
    if q.overdue:
        ticket_conds.append("overdue = 1")
    if ticket_conds:
        where.append(f"x.incident_id IN (SELECT incident_id FROM tickets WHERE {' AND '.join(ticket_conds)})")
        params += ticket_params
    if q.text:
        if not user.may_hear_recordings:  # the transcript is part of the recording
            raise SearchError("q: transcript search needs the recordings grant")
        if len(q.text) >= 3:
            where.append(
                "x.incident_id IN (SELECT incident_id FROM transcripts_fts WHERE transcripts_fts MATCH ?)"
            )
            params.append(_fts_phrase(q.text))
        else:
            where.append(
                "x.incident_id IN (SELECT incident_id FROM transcripts WHERE text LIKE ? ESCAPE '\\')"
            )
            params.append(f"%{_like_escape(q.text)}%")
    sql = INCIDENTS_SQL.format(where=" AND ".join(where), having=" AND ".join(having))
    all_params = [*params, *params, *having_params]
    total = conn.execute(f"SELECT COUNT(*) FROM ({sql})", all_params).fetchone()[0]
    rows = conn.execute(
        f"SELECT incident_id, started_at FROM ({sql}) ORDER BY started_at DESC, incident_id LIMIT ? OFFSET ?",
        [*all_params, q.limit, q.offset],
    ).fetchall()
    results = [_summary(conn, user, r["incident_id"], r["started_at"], q.text) for r in rows]
    return {"total": total, "limit": q.limit, "offset": q.offset, "results": results}


def _summary(
    conn: sqlite3.Connection, user: User, incident_id: str, started_at: str, text: str
) -> dict[str, object]:
    from gateway.logs import mask_phone

    legs = conn.execute(
        "SELECT leg, caller_e164, caller_raw, agent, outcome FROM calls WHERE incident_id = ?"
        " ORDER BY started_at",
        (incident_id,),
    ).fetchall()
    tickets = conn.execute(
        "SELECT ticket_id, route, agency, status, overdue, category, summary FROM tickets"
        " WHERE incident_id = ? ORDER BY created_at",
        (incident_id,),
    ).fetchall()
    caller = next(
        (r["caller_e164"] or r["caller_raw"] for r in legs if r["caller_e164"] or r["caller_raw"]), None
    )
    if user.role == "agency" and caller:
        caller = mask_phone(caller)
    snippet = None
    if text and user.may_hear_recordings:
        row = conn.execute(
            "SELECT text FROM transcripts WHERE incident_id = ? AND instr(text, ?) > 0 LIMIT 1",
            (incident_id, text),
        ).fetchone()
        if row:
            pos = row["text"].find(text)
            snippet = row["text"][max(0, pos - 20) : pos + len(text) + 20]
    return {
        "incident_id": incident_id,
        "started_at": started_at,
        "caller": caller,
        "legs": [r["leg"] for r in legs],
        "outcomes": [r["outcome"] for r in legs if r["outcome"]],
        "tickets": [dict(t) for t in tickets],
        "snippet": snippet,
    }
