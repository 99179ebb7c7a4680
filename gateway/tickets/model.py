"""The versioned ticket schema (pydantic); ``docs/ticket.schema.json`` is generated from it."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 2  # 2 added `kind`; version-1 documents read as kind work_order
SCHEMA_PATH = Path(__file__).resolve().parents[2] / "docs" / "ticket.schema.json"

Source = Literal["110_transfer", "overflow_ivr", "12345_direct"]
Route = Literal["police", "fire", "medical", "emergency", "hotline", "not_accepted", "review"]
RequestType = Literal["consultation", "help", "complaint", "report", "suggestion"]
Urgency = Literal["emergency", "urgent", "normal"]
Kind = Literal["work_order", "callback"]
Status = Literal["created", "delivered", "accepted", "arrived", "handled", "returned", "closed"]
Satisfaction = Literal["satisfied", "basically_satisfied", "dissatisfied"]

EMERGENCY_ROUTES = frozenset({"police", "fire", "medical", "emergency"})
#: 咨询/求助/投诉/举报/建议 as the schema spells them.
REQUEST_TYPES_ZH = {
    "咨询": "consultation",
    "求助": "help",
    "投诉": "complaint",
    "举报": "report",
    "建议": "suggestion",
    "意见建议": "suggestion",
}
TIME = {"format": "date-time"}
CN_TZ = dt.timezone(dt.timedelta(hours=8), "CST")  # China has one zone and no DST


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def iso(t: dt.datetime) -> str:
    """``2026-11-23T13:45:00.123Z``: the archive's time format."""
    return t.astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def parse_time(text: str) -> dt.datetime:
    t = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Caller(_Model):
    raw: str = Field(description="the number exactly as received")
    e164: str | None = Field(None, description="E.164 form (region CN); null for short/invalid numbers")
    valid: bool = Field(False, description="false: kept as received and flagged")
    kind: str = Field(
        "invalid", description="mobile, landline, toll_free, uan, emergency, short, foreign, invalid, empty"
    )


class RecordingRef(_Model):
    recording_id: str
    leg: str | None = Field(None, description="110 | ivr | 12345")
    path: str | None = Field(None, description="relative to recordings.dir")


class Deadlines(_Model):
    handover_due_at: str | None = Field(
        None, description="emergency found at 12345: to 110/应急 (10 min)", json_schema_extra=TIME
    )
    arrival_due_at: str | None = Field(
        None, description="linked agency on scene (30/40/60 min)", json_schema_extra=TIME
    )
    arrival_minutes: int | None = None
    base_due_at: str | None = Field(
        None, description="work order due, before extensions", json_schema_extra=TIME
    )
    due_at: str | None = Field(None, description="current work-order deadline", json_schema_extra=TIME)
    working_days: int | None = Field(None, description="working days allowed now (base + extensions)")
    extensions_granted: int = 0
    max_extensions: int = 0
    max_working_days: int | None = None
    calendar: list[str] = Field(
        default_factory=list, description="calendar sources used: chinesecalendar, config, weekends_only"
    )
    calendar_unannounced: bool = Field(False, description="a year no calendar knows: weekends only")


class Ticket(_Model):
    """One work order (工单) from intake to closure."""

    schema_version: int = SCHEMA_VERSION
    ticket_id: str
    incident_id: str = Field(description="ties every leg of one call: 110, IVR, 12345")
    source: Source
    status: Status = "created"
    kind: Kind = Field(
        "work_order",
        description="work_order: the agency handles the matter; callback: call the caller back first "
        "(a hand-over 12345 did not answer, or a caller who hung up before reaching a person)",
    )
    caller: Caller
    location: str | None = None
    route: Route
    agency: str | None = Field(None, description="agency (or desk) code whose queue holds the ticket")
    joint_agencies: list[str] = Field(default_factory=list, description="联合处置: also notified")
    previous_agencies: list[str] = Field(default_factory=list, description="agencies that returned it (退单)")
    hop: int = Field(0, description="times the ticket was re-routed")
    category: str | None = None
    request_type: RequestType | None = None
    urgency: Urgency = "normal"
    summary: str = ""
    transcript_excerpt: str | None = None
    recordings: list[RecordingRef] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list, description="matched triage keywords")
    triage: dict[str, Any] | None = None
    deadlines: Deadlines = Field(default_factory=Deadlines)
    extension_pending: bool = False
    satisfaction: Satisfaction | None = None
    created_at: str = Field(json_schema_extra=TIME)
    updated_at: str = Field(json_schema_extra=TIME)
    version: int = Field(1, description="increments on every change")

    def to_json(self) -> str:
        return self.model_dump_json()


def json_schema() -> dict[str, Any]:
    schema = Ticket.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://linkage-gateway.invalid/ticket.v{SCHEMA_VERSION}.schema.json"
    return schema


def schema_text() -> str:
    return json.dumps(json_schema(), ensure_ascii=False, indent=2) + "\n"


def write_schema(path: Path = SCHEMA_PATH) -> bool:
    """Write the schema file; returns True when it changed."""
    text = schema_text()
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True
