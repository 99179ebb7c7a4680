"""Overflow screening: after queue 110 overflows, the caller's recorded description is transcribed
and classified, then routed.

Routing (``decide``): any danger or an emergency route → back to 110 at top priority with the
transcript; ``hotline`` → ticket, and in the 12345 hours the 12345 queue; ``not_accepted`` → the
caller is told where to go; ``review`` (or anything unclear) → back to 110.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from twisted.internet import defer

from gateway.logs import log

LOG = logging.getLogger("gateway.telephony.overflow")
EMERGENCY_ROUTES = ("police", "fire", "medical", "emergency")
TOP_PRIORITY = 10
TRANSCRIPT_VAR_MAX = 300


@dataclass(frozen=True)
class Decision:
    """Where the call goes next: ``next`` is the dialplan label (``110``/``12345``/``ticket``/
    ``not_accepted``), ``priority`` the queue priority, ``ticket`` whether to create one."""

    next: str
    priority: int
    ticket: bool
    reason: str


def triage_dict(result: Any) -> dict[str, Any]:
    """The triage API returns an object with ``.to_dict()``; a plain dict is accepted too."""
    if hasattr(result, "to_dict"):
        result = result.to_dict()
    if not isinstance(result, dict):
        raise TypeError(f"classify() returned {type(result).__name__}, expected a dict or .to_dict()")
    return result


def decide(triage: dict[str, Any], *, in_hours: bool) -> Decision:
    route = triage.get("route")
    if triage.get("danger") or route in EMERGENCY_ROUTES:
        return Decision("110", TOP_PRIORITY, False, f"danger ({route})")
    if route == "hotline":
        if in_hours:
            return Decision("12345", 0, True, "non-emergency, 12345 open")
        return Decision("ticket", 0, True, "non-emergency, 12345 closed: ticket and call back")
    if route == "not_accepted":
        return Decision("not_accepted", 0, False, "not accepted by 12345")
    return Decision("110", 0, False, f"review ({route})")


def callback_route(triage: dict[str, Any]) -> str:
    """Whose queue calls back a caller who hung up before reaching 110: the emergency desk the
    words point at; 110 when they show danger or nothing could be understood; else a person."""
    route = triage.get("route")
    if route in EMERGENCY_ROUTES:
        return str(route)
    if triage.get("danger") or not triage:
        return "police"
    return "review"


def parse_hours(spec: str) -> tuple[time, time]:
    start, end = spec.split("-")
    return time.fromisoformat(start), time.fromisoformat(end)


def in_hours(spec: str, now: datetime) -> bool:
    start, end = parse_hours(spec)
    t = now.time()
    return start <= t < end if start <= end else (t >= start or t < end)


def channel_safe(text: str, limit: int = TRANSCRIPT_VAR_MAX) -> str:
    """A transcript fit for a channel variable: one line, no control characters, bounded."""
    return re.sub(r"[\x00-\x1f\x7f]+", " ", text).strip()[:limit]


class Screening:
    """Transcribe → classify → decide → ticket. ``transcribe(path) -> Deferred[str]``;
    ``classify(text)`` may be slow CPU work and is run off the reactor via ``run_blocking``."""

    def __init__(self, *, transcribe: Callable[[str], Any], classify: Callable[[str], Any],
                 tickets: Any, hours_12345: str, now: Callable[[], datetime] | None = None):
        self.transcribe = transcribe
        self.classify = classify
        self.tickets = tickets
        self.hours_12345 = hours_12345
        self.now = now or datetime.now

    @defer.inlineCallbacks
    def screen(self, path: str, *, incident_id: str, caller: str,
               run_blocking: Callable[..., Any]) -> Any:
        """Returns ``(decision, triage, transcript)``; any failure routes to 110 (never lost)."""
        try:
            transcript = yield defer.maybeDeferred(self.transcribe, path)
            transcript = transcript or ""
        except Exception as exc:
            log(LOG, logging.ERROR, "overflow transcription failed; caller goes to 110",
                incident_id=incident_id, error=str(exc))
            return Decision("110", 0, False, "transcription failed"), {}, ""
        if not transcript.strip():
            return Decision("110", 0, False, "nothing said"), {}, ""
        try:
            triage = triage_dict((yield run_blocking(self.classify, transcript)))
        except Exception as exc:
            log(LOG, logging.ERROR, "overflow classification failed; caller goes to 110",
                incident_id=incident_id, error=str(exc))
            return Decision("110", 0, False, "classification failed"), {}, transcript
        decision = decide(triage, in_hours=in_hours(self.hours_12345, self.now()))
        if decision.ticket:
            draft = {
                "incident_id": incident_id, "source": "overflow_ivr", "caller": caller,
                "route": triage.get("route"), "agency": triage.get("agency"),
                "summary": transcript[:120], "transcript_excerpt": transcript[:500],
                "recordings": [path], "triage": triage,
                "kind": "callback" if decision.next == "ticket" else "work_order",
            }
            try:
                yield defer.maybeDeferred(self.tickets.create, draft)
            except Exception as exc:
                # never lose the caller's request: a person takes it at 110
                log(LOG, logging.ERROR, "overflow ticket failed; caller goes to 110",
                    incident_id=incident_id, error=str(exc))
                return Decision("110", 0, False, "ticket creation failed"), triage, transcript
        return decision, triage, transcript

    @defer.inlineCallbacks
    def callback_after_hangup(self, decision: Decision, triage: dict[str, Any], transcript: str, *,
                              path: str, incident_id: str, caller: str) -> Any:
        """The caller hung up before reaching a person: unless a ticket already holds the request,
        queue a call-back for the desk that must act (110 calls back abandoned emergency calls)."""
        if decision.ticket:
            return None
        route = callback_route(triage)
        urgent = route != "review"
        said = transcript.strip()
        draft = {
            "incident_id": incident_id, "source": "overflow_ivr", "caller": caller, "route": route,
            "agency": None, "urgency": "emergency" if urgent else "urgent",
            "summary": ("语音分流中挂机，需立即回拨：" if urgent else "语音分流中挂机，需回拨：")
            + (said[:100] or "未听清来电内容"),
            "transcript_excerpt": said[:500], "recordings": [path], "triage": triage or None,
            "kind": "callback",
        }
        try:
            ticket = yield defer.maybeDeferred(self.tickets.create, draft)
        except Exception as exc:
            log(LOG, logging.CRITICAL, "call-back for a caller who hung up could not be queued",
                incident_id=incident_id, route=route, error=str(exc))
            return None
        return (ticket or {}).get("ticket_id")
