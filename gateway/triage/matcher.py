"""Aho-Corasick matching of every lexicon term and cue, on characters and on pinyin keys."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import NamedTuple

from gateway.triage.automaton import Automaton, RustAutomaton, build
from gateway.triage.lexicon import Lexicon

# Payload kinds stored per key while building.
GROUP, COMBO, SCOPE, REQUEST = "G", "C", "S", "R"

_TERM, _PARTS, _ANY = "term", "parts", "any"  # payload shapes, see Matcher._build

Part = tuple[int, int, int, int, str, bool]  # start, end, combo, part, term, homophone

_new = tuple.__new__  # _new(Scan, fields) skips the generated Python __new__


class Scan(NamedTuple):
    """Hits of one text, by kind; positions are ``[start, end)`` in the normalised text.

    Hits come in scan order: by end, and of those ending together the longest first. Later steps
    keep the first of equal candidates, so this order is part of the result.
    """

    targets: list[tuple[int, int, int, str, bool]]  # start, end, group index, term, homophone
    cues: list[tuple[int, int, str]]  # start, end, scope cue name
    requests: set[str]  # request types cued
    part_spans: list[tuple[int, int]]  # where combo parts were found (only if there are cues)
    combos: dict[int, list[Part]]  # combo index → its part hits, for combos with every part seen


class _ComboBits:
    """Which combos have every part seen, with one integer addition per text.

    Each combo gets a field of one bit per part and a guard bit above; a hit sets its part's bit.
    Adding 1 to every field carries into the guard bit exactly where all parts are set.
    """

    def __init__(self, combos: list[int]):
        self.bit: dict[tuple[int, int], int] = {}
        self.ones = self.guards = 0
        self.combo_at: dict[int, int] = {}  # bit length of a guard bit → its combo
        pos = 0
        for ci, nparts in enumerate(combos):
            for p in range(nparts):
                self.bit[ci, p] = 1 << (pos + p)
            self.ones |= 1 << pos
            self.guards |= 1 << (pos + nparts)
            self.combo_at[pos + nparts + 1] = ci
            pos += nparts + 1

    def complete(self, carry: int) -> list[int]:
        """The combos of the guard bits set in ``carry``, i.e. ``(bits + ones) & guards``."""
        out = []
        while carry:
            low = carry & -carry
            out.append(self.combo_at[low.bit_length()])
            carry ^= low
        return out


class Matcher:
    """Two automata: exact characters, and pinyin keys for homophone errors (terms of ≥ 2 chars).

    ``pinyin`` maps each code point that has a pinyin key to it: the sound automaton reads a
    transcript through it, as the keys of its characters.
    """

    def __init__(self, lexicon: Lexicon, norm: Callable[[str], str], pinyin: Mapping[int, str],
                 phrase_pinyin: Callable[[str], str] | None = None):
        self._light = frozenset(lexicon.light_chars)
        self._combo_bits = _ComboBits([len(c.parts) for c in lexicon.combos])
        exact: dict[str, list[tuple[str, int | str, int, str]]] = {}
        sound: dict[str, list[tuple[str, int | str, int, str]]] = {}

        def add(term: str, payload: tuple[str, int | str, int], homophones: bool) -> None:
            t = norm(term)
            if not t:
                return
            exact.setdefault(t, []).append((*payload, t))
            if homophones and len(t) >= 2:
                keys = {t.translate(pinyin)}
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
        self._exact, self._exact_payloads, self._exact_parts = self._build(exact)
        self._sound, _, sound_terms = self._build(sound, pinyin)
        self._sound_solo = [terms[0] if len(terms) == 1 else None for terms in sound_terms]
        # with each term, where a sound-alike must keep its character to count: content characters
        light = self._light
        self._sound_terms = [
            tuple((*t, tuple((j, ch) for j, ch in enumerate(t[2]) if ch not in light)) for t in terms)
            for terms in sound_terms
        ]
        self.size = len(exact)

    def _build(
        self, words: dict[str, list[tuple[str, int | str, int, str]]], alias: Mapping[int, str] | None = None,
    ) -> tuple[Automaton | RustAutomaton | None, list[tuple], list[tuple[tuple[int, int, str, bool], ...]]]:
        """The automaton and, by pattern index, what a hit does (so that a scan hardly branches).

        Payloads: ``(TERM, group, term)`` for one group term and nothing else, ``(PARTS, bits)``
        for combo parts only, else ``(ANY, groups, bits, scope cues, request types)``. The second
        list holds every term of a pattern as ``(group or combo, part, term, is a part)``.
        """
        payloads: list[tuple] = []
        terms: list[tuple[tuple[int, int, str, bool], ...]] = []
        bit = self._combo_bits.bit
        for payload in words.values():
            groups = tuple((ref, term) for kind, ref, _, term in payload if kind is GROUP)
            parts = [(ref, part, term) for kind, ref, part, term in payload if kind is COMBO]
            bits = 0
            for ref, part, _ in parts:
                bits |= bit[ref, part]
            cues = tuple(ref for kind, ref, _, _ in payload if kind is SCOPE)
            reqs = tuple(ref for kind, ref, _, _ in payload if kind is REQUEST)
            if len(groups) == 1 and not (parts or cues or reqs):
                payloads.append((_TERM, *groups[0]))
            elif parts and not (groups or cues or reqs):
                payloads.append((_PARTS, bits))
            else:
                payloads.append((_ANY, groups, bits, cues, reqs))
            terms.append(tuple((ref, 0, term, False) for ref, term in groups)
                         + tuple((ref, part, term, True) for ref, part, term in parts))
        if not words:
            return None, payloads, terms
        return build(list(words), alias), payloads, terms

    def scan(self, text: str) -> Scan:
        """Every hit in ``text`` (normalised), by its characters and by their pinyin keys.

        A sound-alike counts only if it keeps a content character of the term in place: a
        recogniser rarely gets every character of a word wrong (路等 keeps 路 of 路灯), while chance
        homophones of short words (大家 ~ 打架) usually share none. A sound-alike term that
        overlaps an exact term or cue is those characters misheard by us, not by the recogniser
        (一燃 in 万一燃气泄漏 is no 易燃; 老是 is no 老师); combo parts are not held to that.
        """
        targets: list[tuple[int, int, int, str, bool]] = []
        cues: list[tuple[int, int, str]] = []
        requests: set[str] = set()
        exact_parts: list[tuple[int, int, int]] = []  # pattern index, start, end
        sound_parts: list[Part] = []
        bits = 0
        payloads = self._exact_payloads
        # The automata report hits in scan order (by end, the longest first; tests check it).
        hits = self._exact.find(text) if self._exact else ()
        for hit in hits:
            p = payloads[hit[0]]
            if p[0] is _PARTS:
                bits |= p[1]
                exact_parts.append(hit)
            elif p[0] is _TERM:
                targets.append((hit[1], hit[2], p[1], p[2], False))
            else:
                _, groups, part_bits, cue_names, reqs = p
                _, s, e = hit
                for ref, term in groups:
                    targets.append((s, e, ref, term, False))
                if part_bits:
                    bits |= part_bits
                    exact_parts.append(hit)
                for name in cue_names:
                    cues.append((s, e, name))
                if reqs:
                    requests.update(reqs)
        hits = self._sound.find(text) if self._sound else ()
        if hits:
            solo = self._sound_solo
            sound_terms = self._sound_terms
            exact_spans: list[tuple[int, int]] | None = None
            for i, s, e in hits:
                surface = text[s:e]
                one = solo[i]
                if one is not None and one[2] == surface:
                    continue  # the term itself, found by the exact automaton
                for ref, part, term, is_part, anchors in sound_terms[i]:
                    if term == surface:
                        continue
                    for j, ch in anchors:
                        if surface[j] == ch:
                            break
                    else:
                        continue  # not anchored
                    if is_part:
                        sound_parts.append((s, e, ref, part, term, True))
                        bits |= self._combo_bits.bit[ref, part]
                        continue
                    if exact_spans is None:
                        exact_spans = [(t[0], t[1]) for t in targets] + [(c[0], c[1]) for c in cues]
                    for s2, e2 in exact_spans:
                        if s2 < e and s < e2:
                            break
                    else:
                        targets.append((s, e, ref, term, True))
        part_spans: list[tuple[int, int]] = []
        if cues:
            for h in exact_parts:
                part_spans.append((h[1], h[2]))
            for p in sound_parts:
                part_spans.append((p[0], p[1]))
        carry = (bits + self._combo_bits.ones) & self._combo_bits.guards if bits else 0
        if not carry:
            return _new(Scan, (targets, cues, requests, part_spans, {}))
        complete = self._combo_bits.complete(carry)
        parts = [(s, e, ref, part, term, False) for i, s, e in exact_parts
                 for ref, part, term, is_part in self._exact_parts[i] if is_part] + sound_parts
        if len(complete) == 1:
            ci = complete[0]
            return _new(Scan, (targets, cues, requests, part_spans, {ci: [h for h in parts if h[2] == ci]}))
        # Complete combos in the order of a set of their indices filled in order of first hit, as
        # before this was optimised (the order decides between matches that start together).
        firsts = dict.fromkeys(h[2] for h in parts if h[2] in complete)
        combos: dict[int, list[Part]] = {ci: [] for ci in {ci for ci in firsts}}
        for h in parts:
            if h[2] in combos:
                combos[h[2]].append(h)
        return _new(Scan, (targets, cues, requests, part_spans, combos))
