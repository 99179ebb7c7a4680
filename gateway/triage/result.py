"""Result types of the classifier; plain frozen dataclasses, JSON-ready via ``to_dict``."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, NamedTuple

EMERGENCY_ROUTES = frozenset({"police", "fire", "medical", "emergency"})
ROUTES = (*sorted(EMERGENCY_ROUTES), "hotline", "not_accepted", "review")


def is_emergency(route: str) -> bool:
    """True for the four emergency desks (police, fire, medical, emergency)."""
    return route in EMERGENCY_ROUTES


class Match(NamedTuple):
    """One lexicon term found in the normalised text, ``[start, end)``."""

    term: str
    target: str  # a desk route, "not_accepted" or an agency code
    weight: float
    start: int
    end: int
    negated: bool = False
    past: bool = False
    hypothetical: bool = False
    homophone: bool = False  # matched on pinyin: the transcript wrote another character
    surface: str = ""  # the characters of the transcript that matched
    key: str = ""  # where the term lives in the lexicon

    @property
    def active(self) -> bool:
        return not (self.negated or self.past or self.hypothetical)


@dataclass(slots=True)
class TriageResult:
    """The routing decision and its explanation; ``normalised`` is the text positions refer to."""

    route: str
    agency: str | None
    joint_agencies: list[str]
    linked_routes: list[str]
    category: str | None
    subcategory: str | None
    request_type: str
    urgency: str  # immediate | urgent | normal
    confidence: float
    danger: bool
    matched: list[Match]
    normalised: str = ""
    reason: str = ""
    cues: list[tuple[int, int, str]] = field(default_factory=list)  # start, end, scope cue

    def to_dict(self) -> dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d["confidence"] = round(self.confidence, 3)
        d["matched"] = [{**m._asdict(), "weight": round(m.weight, 3)} for m in self.matched]
        d["cues"] = [{"cue": n, "start": s, "end": e, "text": self.normalised[s:e]} for s, e, n in self.cues]
        d["joint_agencies"] = list(self.joint_agencies)
        d["linked_routes"] = list(self.linked_routes)
        return d
