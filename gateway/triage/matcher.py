"""Aho-Corasick matching of every lexicon term and cue, on characters and on pinyin keys."""

from __future__ import annotations

from collections.abc import Callable
from operator import itemgetter
from typing import NamedTuple

import ahocorasick_rs

from gateway.triage.lexicon import Lexicon

# Payload kinds stored per key while building.
GROUP, COMBO, SCOPE, REQUEST = "G", "C", "S", "R"

# Hits in the order a classic Aho-Corasick scan reports them: by end, the longest first. Later
# steps keep the first of equal candidates, so this order is part of the result.
_SCAN_ORDER = itemgetter(2, 1)


class Scan(NamedTuple):
    """Hits of one text, by kind; positions are ``[start, end)`` in the normalised text."""

    targets: list[tuple[int, int, int, str, bool]]  # start, end, group index, term, homophone
    parts: list[tuple[int, int, int, int, str, bool]]  # start, end, combo, part, term, homophone
    cues: list[tuple[int, int, str]]  # start, end, scope cue name
    requests: set[str]  # request types cued
    combos: dict[int, int]  # combo index → bit mask of the parts seen


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
        self._exact, self._exact_payloads = self._build(exact)
        self._sound, self._sound_payloads = self._build(sound)
        self.size = len(exact)

    @staticmethod
    def _build(
        words: dict[str, list[tuple[str, int | str, int, str]]],
    ) -> tuple[ahocorasick_rs.AhoCorasick | None, list[tuple[tuple, tuple, tuple, tuple]]]:
        """The automaton and, by pattern index, its payloads split by kind (no branching per hit)."""
        payloads = []
        for payload in words.values():
            groups = tuple((ref, term) for kind, ref, _, term in payload if kind is GROUP)
            parts = tuple((ref, part, term, 1 << part) for kind, ref, part, term in payload if kind is COMBO)
            cues = tuple(ref for kind, ref, _, _ in payload if kind is SCOPE)
            reqs = tuple(ref for kind, ref, _, _ in payload if kind is REQUEST)
            payloads.append((groups, parts, cues, reqs))
        if not words:
            return None, payloads
        return ahocorasick_rs.AhoCorasick(list(words), matchkind=ahocorasick_rs.MatchKind.Standard), payloads

    def scan(self, text: str, key: str) -> Scan:
        """Every hit in ``text`` (normalised) and its pinyin ``key`` (same length).

        A sound-alike counts only if it keeps a content character of the term in place: a
        recogniser rarely gets every character of a word wrong (路等 keeps 路 of 路灯), while chance
        homophones of short words (大家 ~ 打架) usually share none. A sound-alike term that
        overlaps an exact term or cue is those characters misheard by us, not by the recogniser
        (一燃 in 万一燃气泄漏 is no 易燃; 老是 is no 老师); combo parts are not held to that.
        """
        targets: list[tuple[int, int, int, str, bool]] = []
        parts: list[tuple[int, int, int, int, str, bool]] = []
        cues: list[tuple[int, int, str]] = []
        requests: set[str] = set()
        combos: dict[int, int] = {}
        if self._exact is not None:
            hits = self._exact.find_matches_as_indexes(text, overlapping=True)
            if len(hits) > 1:
                hits.sort(key=_SCAN_ORDER)
            payloads = self._exact_payloads
            for i, s, e in hits:
                groups, combo_parts, cue_names, reqs = payloads[i]
                for ref, term in groups:
                    targets.append((s, e, ref, term, False))
                for ref, part, term, bit in combo_parts:
                    parts.append((s, e, ref, part, term, False))
                    combos[ref] = combos.get(ref, 0) | bit
                for name in cue_names:
                    cues.append((s, e, name))
                if reqs:
                    requests.update(reqs)
        if self._sound is not None:
            hits = self._sound.find_matches_as_indexes(key, overlapping=True)
            if len(hits) > 1:
                hits.sort(key=_SCAN_ORDER)
            payloads = self._sound_payloads
            light = self._light
            exact_spans: list[tuple[int, int]] | None = None
            for i, s, e in hits:
                groups, combo_parts, _, _ = payloads[i]
                surface = text[s:e]
                for ref, term in groups:
                    if term == surface:
                        continue
                    for a, b in zip(surface, term, strict=True):
                        if a == b and a not in light:
                            break
                    else:
                        continue  # not anchored
                    if exact_spans is None:
                        exact_spans = [(t[0], t[1]) for t in targets] + [(c[0], c[1]) for c in cues]
                    for s2, e2 in exact_spans:
                        if s2 < e and s < e2:
                            break
                    else:
                        targets.append((s, e, ref, term, True))
                for ref, part, term, bit in combo_parts:
                    if term == surface:
                        continue
                    for a, b in zip(surface, term, strict=True):
                        if a == b and a not in light:
                            parts.append((s, e, ref, part, term, True))
                            combos[ref] = combos.get(ref, 0) | bit
                            break
        return Scan(targets, parts, cues, requests, combos)
