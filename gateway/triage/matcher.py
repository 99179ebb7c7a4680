"""Aho-Corasick matching of every lexicon term and cue, on characters and on pinyin keys."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import ahocorasick

from gateway.triage.lexicon import Lexicon

# Payload kinds stored in the automata.
GROUP, COMBO, SCOPE, REQUEST = "G", "C", "S", "R"


class Hit(NamedTuple):
    """One occurrence: ``[start, end)`` in the normalised text."""

    start: int
    end: int
    kind: str
    ref: int | str  # group/combo index, scope cue name or request type
    part: int  # combo part index (0 otherwise)
    term: str  # the lexicon term (normalised)
    homophone: bool  # matched on pinyin only


class Matcher:
    """Two automata: exact characters, and pinyin keys for homophone errors (terms of ≥ 2 chars)."""

    def __init__(self, lexicon: Lexicon, norm: Callable[[str], str], pinyin: Callable[[str], str]):
        self._light = frozenset(lexicon.light_chars)
        exact: dict[str, list[tuple[str, int | str, int, str]]] = {}
        sound: dict[str, list[tuple[str, int | str, int, str]]] = {}

        def add(term: str, payload: tuple[str, int | str, int], homophones: bool) -> None:
            t = norm(term)
            if not t:
                return
            exact.setdefault(t, []).append((*payload, t))
            if homophones and len(t) >= 2:
                sound.setdefault(pinyin(t), []).append((*payload, t))

        for i, g in enumerate(lexicon.groups):
            for term in g.terms:
                add(term, (GROUP, i, 0), g.pinyin)
        for i, c in enumerate(lexicon.combos):
            for p, part in enumerate(c.parts):
                for term in part:
                    add(term, (COMBO, i, p), True)
        for name, cues in lexicon.scope.cues.items():
            for term in cues:
                add(term, (SCOPE, name, 0), False)
        for rt, cues in lexicon.request_types.items():
            for term in cues:
                add(term, (REQUEST, rt, 0), False)
        self._exact = self._build(exact)
        self._sound = self._build(sound)
        self.size = len(exact)

    @staticmethod
    def _build(words: dict[str, list[tuple[str, int | str, int, str]]]) -> ahocorasick.Automaton:
        auto = ahocorasick.Automaton()
        for key, payloads in words.items():
            auto.add_word(key, (len(key), tuple(payloads)))
        if len(auto):
            auto.make_automaton()
        return auto

    def _anchored(self, surface: str, term: str) -> bool:
        """A sound-alike counts only if it shares a content character with the term.

        A recogniser rarely gets every character of a word wrong (路等 keeps 路 of 路灯), while
        chance homophones of short words (大家 ~ 打架) usually share none.
        """
        return any(a == b and a not in self._light for a, b in zip(surface, term, strict=True))

    def scan(self, text: str, key: str) -> list[Hit]:
        """Every hit in ``text`` (normalised) and its pinyin ``key`` (same length)."""
        hits: list[Hit] = []
        if self._exact.kind == ahocorasick.AHOCORASICK:
            for end, (n, payloads) in self._exact.iter(text):
                s = end + 1 - n
                for kind, ref, part, term in payloads:
                    hits.append(Hit(s, end + 1, kind, ref, part, term, False))
        if self._sound.kind == ahocorasick.AHOCORASICK:
            for end, (n, payloads) in self._sound.iter(key):
                s = end + 1 - n
                surface = text[s : end + 1]
                for kind, ref, part, term in payloads:
                    if term != surface and self._anchored(surface, term):
                        hits.append(Hit(s, end + 1, kind, ref, part, term, True))
        return hits
