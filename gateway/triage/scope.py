"""Scope of a danger term: negated (没有着火), past (上次着火), hypothetical (如果着火)."""

from __future__ import annotations

from typing import NamedTuple

from gateway.triage.lexicon import Scope


class Cue(NamedTuple):
    start: int
    end: int
    name: str


def keep_longest(cues: list[Cue]) -> list[Cue]:
    """Drop cues inside a longer cue, so 是不是 (neutral) hides the 不是 (negation) inside it."""
    out = []
    for c in cues:
        inside = any(
            o is not c and o.start <= c.start and c.end <= o.end and (o.end - o.start) > (c.end - c.start)
            for o in cues
        )
        if not inside:
            out.append(c)
    return out


def _crosses(lo: int, hi: int, cues: list[Cue]) -> bool:
    """A boundary cue (但是, 就是 …) lies between ``lo`` and ``hi``."""
    return any(b.name == "boundary" and b.start >= lo and b.end <= hi for b in cues)


def flags(start: int, end: int, cues: list[Cue], scope: Scope) -> tuple[bool, bool, bool]:
    """``(negated, past, hypothetical)`` for a term at ``[start, end)``."""
    negated = past = hypo = False
    for c in cues:
        if c.end <= start:
            gap = start - c.end
            if c.name in ("boundary", "present", "neutral") or _crosses(c.end, start, cues):
                continue
            if c.name == "negation" and gap <= scope.negation_window:
                negated = True
            elif c.name == "hypothetical" and gap <= scope.hypothetical_window:
                hypo = True
            elif c.name == "past" and gap <= scope.past_window and not any(
                # a present cue between the past cue and the term brings it back to now
                p.name == "present" and p.start >= c.end and p.end <= start for p in cues
            ):
                past = True
        elif (c.start >= end and c.name == "resolved" and c.start - end <= scope.resolved_window
              and not _crosses(end, c.start, cues)):
            past = True
    return negated, past, hypo
