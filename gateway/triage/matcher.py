"""Aho-Corasick matching of every lexicon term and cue, on characters and on pinyin keys."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import ahocorasick

from gateway.triage.lexicon import Lexicon

# Payload kinds stored in the automata.
GROUP, COMBO, SCOPE, REQUEST = "G", "C", "S", "R"


class Scan(NamedTuple):
    """Hits of one text, by kind; positions are ``[start, end)`` in the normalised text."""

    targets: list[tuple[int, int, int, str, bool]]  # start, end, group index, term, homophone
    parts: list[tuple[int, int, int, int, str, bool]]  # start, end, combo, part, term, homophone
    cues: list[tuple[int, int, str]]  # start, end, scope cue name
    requests: set[str]  # request types cued


class Matcher:
    """Two automata: exact characters, and pinyin keys for homophone errors (terms of ≥ 2 chars)."""

    def __init__(self, lexicon: Lexicon, norm: Callable[[str], str], pinyin: Callable[[str], str],
                 phrase_pinyin: Callable[[str], str] | None = None):
        self._light = frozenset(lexicon.light_chars)
        exact: dict[str, list[tuple[str, int | str, int, str]]] = {}
        sound: dict[str, list[tuple[str, int | str, int, str]]] = {}

        def add(term: str, payload: tuple[str, int | str, int], homophones: bool) -> None:
            t = norm(term)
            if not t:
                return
            exact.setdefault(t, []).append((*payload, t))
            if homophones and len(t) >= 2:
                keys = {pinyin(t)}
                if phrase_pinyin is not None:
                    keys.add(phrase_pinyin(t))  # the reading in context: 着火 is zhao huo
                for k in keys:
                    sound.setdefault(k, []).append((*payload, t))

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
        self._exact_ready = self._exact.kind == ahocorasick.AHOCORASICK
        self._sound_ready = self._sound.kind == ahocorasick.AHOCORASICK
        self.size = len(exact)

    @staticmethod
    def _build(words: dict[str, list[tuple[str, int | str, int, str]]]) -> ahocorasick.Automaton:
        """Each key stores its length and its payloads split by kind, so a scan never branches."""
        auto = ahocorasick.Automaton()
        for key, payloads in words.items():
            groups = tuple((ref, term) for kind, ref, _, term in payloads if kind is GROUP)
            parts = tuple((ref, part, term) for kind, ref, part, term in payloads if kind is COMBO)
            cues = tuple(ref for kind, ref, _, _ in payloads if kind is SCOPE)
            reqs = tuple(ref for kind, ref, _, _ in payloads if kind is REQUEST)
            auto.add_word(key, (len(key), groups, parts, cues, reqs))
        if len(auto):
            auto.make_automaton()
        return auto

    def _anchored(self, surface: str, term: str) -> bool:
        """A sound-alike counts only if it shares a content character with the term.

        A recogniser rarely gets every character of a word wrong (路等 keeps 路 of 路灯), while
        chance homophones of short words (大家 ~ 打架) usually share none.
        """
        return any(a == b and a not in self._light for a, b in zip(surface, term, strict=True))

    def scan(self, text: str, key: str) -> Scan:
        """Every hit in ``text`` (normalised) and its pinyin ``key`` (same length)."""
        targets: list[tuple[int, int, int, str, bool]] = []
        parts: list[tuple[int, int, int, int, str, bool]] = []
        cues: list[tuple[int, int, str]] = []
        requests: set[str] = set()
        if self._exact_ready:
            for end, (n, groups, combo_parts, cue_names, reqs) in self._exact.iter(text):
                e = end + 1
                s = e - n
                for ref, term in groups:
                    targets.append((s, e, ref, term, False))
                for ref, part, term in combo_parts:
                    parts.append((s, e, ref, part, term, False))
                for name in cue_names:
                    cues.append((s, e, name))
                if reqs:
                    requests.update(reqs)
        if self._sound_ready:
            for end, (n, groups, combo_parts, _, _) in self._sound.iter(key):
                e = end + 1
                s = e - n
                surface = text[s:e]
                for ref, term in groups:
                    if term != surface and self._anchored(surface, term):
                        targets.append((s, e, ref, term, True))
                for ref, part, term in combo_parts:
                    if term != surface and self._anchored(surface, term):
                        parts.append((s, e, ref, part, term, True))
        return Scan(targets, parts, cues, requests)
