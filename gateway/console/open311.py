"""Open311 GeoReport v2, read only, over the ticket archive (``docs/open311.openapi.yaml``).

Without a token the public sees 12345 work orders (route ``hotline``); an agency bearer token
sees that agency's own tickets of any route. No caller number, location phone numbers or
recording ever leaves through this API: descriptions and addresses are phone-masked.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from typing import Any

from gateway.config import Config
from gateway.logs import mask_phone

ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,128}\Z")
CODE_RE = re.compile(r"^[a-z][a-z0-9_]*\Z")
MAX_PAGE_SIZE = 1000
KNOWN_PARAMS = {
    "service_request_id",
    "service_code",
    "start_date",
    "end_date",
    "status",
    "page",
    "page_size",
    "jurisdiction_id",
}


class Open311Error(Exception):
    def __init__(self, code: int, description: str):
        super().__init__(description)
        self.code = code
        self.description = description

    def body(self) -> list[dict[str, Any]]:
        return [{"code": self.code, "description": self.description}]


def services(config: Config) -> list[dict[str, Any]]:
    """One service per agency of ROUTING.md (config/agencies.yaml)."""
    return [
        {
            "service_code": code,
            "service_name": a.name,
            "description": f"{a.name}（联动等级 {a.level}）",
            "metadata": False,
            "type": "realtime",
            "keywords": code,
            "group": f"level{a.level}",
        }
        for code, a in sorted(config.agencies.agencies.items())
    ]


def _when(value: str, name: str) -> str:
    try:
        parsed = dt.datetime.fromisoformat(value.replace(" ", "+") if value.count(" ") == 1 else value)
    except ValueError as exc:
        raise Open311Error(400, f"{name}: expected an ISO-8601 date-time, got {value!r}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    try:
        utc = parsed.astimezone(dt.UTC)
    except (OverflowError, ValueError) as exc:
        raise Open311Error(400, f"{name}: out of range: {value!r}") from exc
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _request(row: sqlite3.Row, names: dict[str, str]) -> dict[str, Any]:
    agency = row["agency"]
    return {
        "service_request_id": row["ticket_id"],
        "status": "closed" if row["status"] == "closed" else "open",
        "status_notes": row["status"],
        "service_name": names.get(agency or "", agency or "") or None,
        "service_code": agency,
        "description": mask_phone(row["summary"]) if row["summary"] else None,
        "agency_responsible": names.get(agency or "") if agency else None,
        "service_notice": None,
        "requested_datetime": row["created_at"],
        "updated_datetime": row["updated_at"],
        "expected_datetime": row["due_at"],
        "address": mask_phone(row["location"]) if row["location"] else None,
    }


def _scope(agency: str | None) -> tuple[str, list[object]]:
    if agency:
        return "agency = ?", [agency]
    return "route = 'hotline'", []


def requests(
    conn: sqlite3.Connection, config: Config, agency: str | None, args: dict[str, list[str]]
) -> list[dict[str, Any]]:
    """GeoReport ``GET requests``: filters service_request_id, service_code, start/end_date, status."""
    unknown = sorted(set(args) - KNOWN_PARAMS)
    if unknown:
        raise Open311Error(400, f"unknown parameter(s): {', '.join(unknown)}")
    for key, values in args.items():
        if len(values) > 1:
            raise Open311Error(400, f"{key}: given more than once")
    arg = {k: v[0] for k, v in args.items()}
    where, params = [], []  # type: tuple[list[str], list[object]]
    scope, scope_params = _scope(agency)
    where.append(scope)
    params += scope_params
    if "service_request_id" in arg:
        ids = [i.strip() for i in arg["service_request_id"].split(",")]
        if not all(ID_RE.match(i) for i in ids) or len(ids) > 100:
            raise Open311Error(400, "service_request_id: comma-separated ids of letters, digits, _.:-")
        where.append(f"ticket_id IN ({', '.join('?' * len(ids))})")
        params += ids
    if "service_code" in arg:  # an unknown code matches nothing (the schema cannot list config's codes)
        if not CODE_RE.match(arg["service_code"]):
            raise Open311Error(400, "service_code: an agency code (lower_snake_case)")
        where.append("agency = ?")
        params.append(arg["service_code"])
    if "start_date" in arg:
        where.append("created_at >= ?")
        params.append(_when(arg["start_date"], "start_date"))
    if "end_date" in arg:
        where.append("created_at <= ?")
        params.append(_when(arg["end_date"], "end_date"))
    if "status" in arg:
        wanted = {s.strip() for s in arg["status"].split(",")}
        if not wanted or not wanted <= {"open", "closed"}:
            raise Open311Error(400, "status: open, closed or open,closed")
        if wanted == {"open"}:
            where.append("status != 'closed'")
        elif wanted == {"closed"}:
            where.append("status = 'closed'")
    page = _int(arg, "page", 1, 1, 10**6)
    size = _int(arg, "page_size", 100, 1, MAX_PAGE_SIZE)
    rows = conn.execute(
        f"SELECT * FROM tickets WHERE {' AND '.join(where)} ORDER BY created_at DESC, ticket_id"
        " LIMIT ? OFFSET ?",
        [*params, size, (page - 1) * size],
    ).fetchall()
    names = {code: a.name for code, a in config.agencies.agencies.items()}
    return [_request(r, names) for r in rows]


def _int(arg: dict[str, str], name: str, default: int, lo: int, hi: int) -> int:
    raw = arg.get(name)
    if raw is None:
        return default
    if not re.fullmatch(r"[0-9]{1,7}", raw) or not lo <= int(raw) <= hi:
        raise Open311Error(400, f"{name}: a whole number from {lo} to {hi}")
    return int(raw)


def one_request(
    conn: sqlite3.Connection, config: Config, agency: str | None, request_id: str
) -> list[dict[str, Any]]:
    """GeoReport ``GET requests/{id}``: a one-element list, or 404 when absent or not visible."""
    if not ID_RE.match(request_id):
        raise Open311Error(404, "no such service request")
    scope, params = _scope(agency)
    row = conn.execute(
        f"SELECT * FROM tickets WHERE ticket_id = ? AND {scope}", [request_id, *params]
    ).fetchone()
    if row is None:
        raise Open311Error(404, "no such service request")
    names = {code: a.name for code, a in config.agencies.agencies.items()}
    return [_request(row, names)]
