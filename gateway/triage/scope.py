"""Scope of a danger term: negated (没有着火), past (上次着火), hypothetical (如果着火)."""

from __future__ import annotations

from collections.abc import Collection

from gateway.triage.lexicon import Scope

Cue = tuple[int, int, str]  # start, end, cue name (negation, past, boundary …)


def outside(items: list, spans: Collection[tuple[int, int]]) -> list:
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


def _between(name: str, lo: int, hi: int, cues: list[Cue]) -> bool:
    """A cue called ``name`` lies between ``lo`` and ``hi``."""
    for c_start, c_end, c_name in cues:  # noqa: SIM110 (a loop: any() over a generator costs more here)
        if c_name == name and c_start >= lo and c_end <= hi:
            return True
    return False


def flags(start: int, end: int, cues: list[Cue], scope: Scope) -> tuple[bool, bool, bool]:
    """``(negated, past, hypothetical)`` for a term at ``[start, end)``."""
    negated = past = hypo = False
    for c_start, c_end, name in cues:
        if name == "negation" and c_start < start < c_end:
            negated = True  # the cue shares its last character with the term: 没有 | 有人受伤
        elif c_end <= start:
            gap = start - c_end
            # a boundary cue (但是, 就是 …) between the cue and the term stops the cue's reach
            if name in ("boundary", "present", "neutral") or _between("boundary", c_end, start, cues):
                continue
            if name == "negation" and gap <= scope.negation_window:
                negated = True
            elif name == "hypothetical" and gap <= scope.hypothetical_window:
                hypo = True
            elif name == "past" and gap <= scope.past_window and not _between("present", c_end, start, cues):
                past = True  # (a present cue between the past cue and the term brings it back to now)
        elif (c_start >= end and name == "resolved" and c_start - end <= scope.resolved_window
              and not _between("boundary", end, c_start, cues)):
            past = True
    return negated, past, hypo
