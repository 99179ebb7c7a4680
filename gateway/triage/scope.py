"""Scope of a danger term: negated (没有着火), past (上次着火), hypothetical (如果着火)."""

from __future__ import annotations

from gateway.triage.lexicon import Scope

Cue = tuple[int, int, str]  # start, end, cue name (negation, past, boundary …)


def outside(items: list, spans: list[tuple[int, int]]) -> list:
    """Items (start, end, …) not strictly inside one of ``spans``.

    Used twice: a cue inside a longer cue goes (是不是 hides its 不是), and a cue inside a term is
    part of the term (the 没 of 没反应 negates nothing).
    """
    if not spans:
        return items
    out = []
    for it in items:
        s, e = it[0], it[1]
        for s2, e2 in spans:
            if s2 <= s and e <= e2 and e2 - s2 > e - s:
                break
        else:
            out.append(it)
    return out


def _crosses(lo: int, hi: int, cues: list[Cue]) -> bool:
    """A boundary cue (但是, 就是 …) lies between ``lo`` and ``hi``."""
    return any(b[2] == "boundary" and b[0] >= lo and b[1] <= hi for b in cues)


def flags(start: int, end: int, cues: list[Cue], scope: Scope) -> tuple[bool, bool, bool]:
    """``(negated, past, hypothetical)`` for a term at ``[start, end)``."""
    negated = past = hypo = False
    for c_start, c_end, name in cues:
        if name == "negation" and c_start < start < c_end:
            negated = True  # the cue shares its last character with the term: 没有 | 有人受伤
        elif c_end <= start:
            gap = start - c_end
            if name in ("boundary", "present", "neutral") or _crosses(c_end, start, cues):
                continue
            if name == "negation" and gap <= scope.negation_window:
                negated = True
            elif name == "hypothetical" and gap <= scope.hypothetical_window:
                hypo = True
            elif name == "past" and gap <= scope.past_window and not any(
                # a present cue between the past cue and the term brings it back to now
                p[2] == "present" and p[0] >= c_end and p[1] <= start for p in cues
            ):
                past = True
        elif (c_start >= end and name == "resolved" and c_start - end <= scope.resolved_window
              and not _crosses(end, c_start, cues)):
            past = True
    return negated, past, hypo
