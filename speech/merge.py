"""Merge the separately recorded legs of a call into one speaker-labelled, time-ordered transcript."""

from __future__ import annotations

from collections.abc import Mapping

from speech.transcript import Transcript


def merge_legs(legs: Mapping[str, Transcript], offsets: Mapping[str, float] | None = None) -> Transcript:
    """``{"caller": t1, "taker": t2}`` → one transcript whose words carry their leg's name.

    ``offsets`` (seconds) shift a leg that started later than the others (MixMonitor files of one
    call start together, so usually none). Ties in time keep the order the legs were given in.
    """
    offsets = offsets or {}
    order = {name: i for i, name in enumerate(legs)}
    labelled = [t.with_speaker(name, offsets.get(name, 0.0)) for name, t in legs.items()]
    words = sorted((w for t in labelled for w in t.words),
                   key=lambda w: (w.start, w.end, order[w.speaker or ""]))
    duration = max((t.duration for t in labelled), default=0.0)
    return Transcript(tuple(words), duration, tuple(legs))
