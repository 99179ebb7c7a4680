"""The triage decision: danger first, then not-accepted matters, then the 12345 agency.

:meth:`Classifier.classify` is the hot path (tens of microseconds per utterance): per-group facts
are looked up once at construction, and ``Match`` tuples are made without the generated
``__new__``. Any change here must keep the output byte for byte (see docs/triage.md, Speed).
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from gateway.triage.lexicon import Combo, Lexicon, LexiconError, TermGroup, parse_lexicon, read_lexicon
from gateway.triage.matcher import Matcher, Part
from gateway.triage.normalise import Normaliser
from gateway.triage.result import Match, TriageResult
from gateway.triage.scope import Cue, flags, outside

# Request types, most specific first: a call that reports and asks is a report.
_RT_ORDER = ("report", "complaint", "suggestion", "consultation", "help")
_EXTRA = 0.3  # weight of each further term of an agency
_NA_MIN = 0.75  # not-accepted evidence needed to refuse a matter
_STRONG = 0.75  # a danger term this heavy (a full term, or its homophone) is a strong signal
_UNSEEN = 10**6  # first position of an agency only named by the caller

# a match with the kind and links of its group or combo, and the group or combo
_Source = tuple[Match, str, tuple[str, ...], "TermGroup | Combo"]

_new = tuple.__new__  # _new(Match, fields): a Match without the generated Python __new__


def _inner(spans: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """The spans that lie inside a longer one."""
    out = set()
    for span in spans:
        s, e = span
        for s2, e2 in spans:
            if s2 <= s and e <= e2 and e2 - s2 > e - s:
                out.add(span)
                break
    return out


def _specificity(length: int) -> float:
    """Longer phrases are more specific than short words: up to 30% more weight."""
    return min(1.3, 1.0 + 0.1 * max(0, length - 2))


_SPECIFICITY = [_specificity(n) for n in range(64)]  # by length, looked up in the hot path


class Classifier:
    """Built once from a lexicon; :meth:`classify` is pure and safe to call from many threads."""

    def __init__(self, lexicon: Lexicon, review_below: float = 0.5):
        self.lexicon = lexicon
        self.review_below = review_below
        self._norm = Normaliser(lexicon.fillers, lexicon.pinyin_initials, lexicon.pinyin_finals,
                                lexicon.char_map)
        self._matcher = Matcher(lexicon, self._norm.term, self._norm.pinyin_table(), self._norm.phrase_key)
        self._combos = lexicon.combos
        self._priority = {r: i for i, r in enumerate(lexicon.route_priority)}
        self._hfactor = lexicon.homophone_factor
        hf, hs = lexicon.homophone_factor, lexicon.homophone_factor_short
        # per group, what a hit needs: kind, links, danger?, target, weight, key, homophone weights
        self._group_info = [
            (g, g.kind, g.links, g.kind == "danger", g.target, g.weight, g.key, g.weight * hf, g.weight * hs)
            for g in lexicon.groups
        ]

    @classmethod
    def from_config(cls, config: Any) -> Any:
        """From a loaded :class:`gateway.config.Config` (lexicon path, agencies, threshold), with
        the danger model of ``triage.danger_corpus`` behind it (``safety_net.py``)."""
        from gateway.triage.safety_net import guard

        clf = load_classifier(config.lexicon_path, config.agency_codes(), config.gateway.triage.review_below)
        return guard(clf, config)

    @property
    def terms(self) -> int:
        """How many distinct normalised terms and cues the automaton holds."""
        return self._matcher.size

    def normalise(self, text: str) -> str:
        return self._norm.text(text)

    # -- matching ---------------------------------------------------------------------------

    def _matches(self, text: str) -> tuple[list[Match], list[_Source], list[Cue], set[str]]:
        """Matches in order of start, where each comes from, active scope cues, request types."""
        found = self._matcher.scan(text)
        targets, cues = found.targets, found.cues
        spans = set()
        nested = False  # True unless each target starts where the one before it ended, or later
        end = 0
        for t in targets:
            spans.add((t[0], t[1]))
            if t[0] < end:
                nested = True
            end = t[1]
        if cues:
            # a cue inside a longer cue goes (是不是 hides its 不是), and so does one inside a term
            around = spans.union(found.part_spans)
            for c in cues:
                around.add((c[0], c[1]))
            cues = outside(cues, around)
        # A term inside a longer term is the longer term's business (电梯 inside 电梯困人).
        inner = _inner(spans) if nested and len(spans) > 1 else None
        scope = self.lexicon.scope
        info = self._group_info
        matched: list[Match] = []
        sources: list[_Source] = []
        seen: set[tuple[int, int, int]] = set()
        last = 0  # start of the last match; exact terms not inside another come by end, so by start
        unordered = False
        for s, e, ref, term, homophone in targets:
            if inner and (s, e) in inner:
                continue
            ident = (s, e, ref)
            if ident in seen:
                continue
            seen.add(ident)
            g, kind, links, danger, target, weight, key, w_long, w_short = info[ref]
            if homophone:
                weight = w_long if e - s > 2 else w_short
            if danger and cues:
                neg, past, hypo = flags(s, e, cues, scope)
            else:
                neg = past = hypo = False
            match = _new(Match, (term, target, weight, s, e, neg, past, hypo, homophone, text[s:e], key))
            matched.append(match)
            sources.append((match, kind, links, g))
            if s < last:
                unordered = True
            last = s
        if found.combos:
            for match, c in self._combo_matches(found.combos, cues, text):
                matched.append(match)
                sources.append((match, c.kind, c.links, c))
                if match.start < last:
                    unordered = True
                last = match.start
        if unordered:  # by start, stably: of those starting together, the first found comes first
            order = sorted(range(len(matched)), key=lambda i: matched[i].start)
            matched = [matched[i] for i in order]
            sources = [sources[i] for i in order]
        return matched, sources, cues, found.requests

    def _combo_matches(self, combos: dict[int, list[Part]], cues: list[Cue],
                       text: str) -> list[tuple[Match, Combo]]:
        out = []
        for ci, hits in combos.items():
            c = self._combos[ci]
            slots: list[list[Part]] = [[] for _ in c.parts]
            for h in hits:
                slots[h[3]].append(h)
            # the tightest of the first 64 ways to take one hit per part, if within the window
            best = None
            width = 0
            for combo in itertools.islice(itertools.product(*slots), 64):
                lo, hi = combo[0][0], combo[0][1]
                longest = hi - lo
                for h in combo:
                    if h[0] < lo:
                        lo = h[0]
                    if h[1] > hi:
                        hi = h[1]
                    if h[1] - h[0] > longest:
                        longest = h[1] - h[0]
                if hi - lo <= c.window + longest and (best is None or hi - lo < width):
                    best, width = (lo, hi, combo), hi - lo
            if best is None:
                continue
            lo, hi, combo = best
            neg = past = hypo = False
            if c.kind == "danger" and cues:
                for h in combo:
                    n, p, y = flags(h[0], h[1], cues, self.lexicon.scope)
                    neg, past, hypo = neg or n, past or p, hypo or y
            term = "+".join([h[4] for h in sorted(combo)])
            homophone = any([h[5] for h in combo])
            weight = c.weight * self._hfactor if homophone else c.weight
            fields = (term, c.target, weight, lo, hi, neg, past, hypo, homophone, text[lo:hi], c.key)
            out.append((_new(Match, fields), c))
        return out

    # -- decision ---------------------------------------------------------------------------

    def classify(self, text: str) -> TriageResult:
        """Route one utterance; the explanation is in ``matched`` and ``reason``."""
        norm = self._norm.text(text)
        return self._decide(norm, *self._matches(norm))

    def _decide(self, norm: str, matched: list[Match], sources: list[_Source], cues: list[Cue],
                requests: set[str]) -> TriageResult:
        request_type = self.lexicon.request_default
        if requests:
            for rt in _RT_ORDER:
                if rt in requests:
                    request_type = rt
                    break

        danger: dict[str, float] = {}
        danger_max: dict[str, float] = {}
        danger_best: dict[str, tuple[Match, Any]] = {}
        links: set[str] = set()
        na = 0.0
        na_best: tuple[Match, Any] | None = None
        first_seen: dict[str, int] = {}
        agency_best: dict[str, tuple[Match, Any]] = {}
        named: dict[str, float] = {}
        agency_terms: dict[str, list[float]] = {}
        counted: set[tuple[str, str]] = set()
        for m, kind, g_links, g in sources:
            term, target, weight, start, end, negated, past, hypothetical, _, _, key = m
            said = (key, term)
            if said in counted:
                continue  # the same term said twice counts once
            counted.add(said)
            if kind == "danger":
                if negated or past or hypothetical:
                    continue
                danger[target] = danger.get(target, 0.0) + weight
                if weight > danger_max.get(target, 0.0):
                    danger_max[target] = weight
                    danger_best[target] = (m, g)
                if g_links:
                    links.update(g_links)
            elif kind == "not_accepted":
                na += weight
                if na_best is None or weight > na_best[0].weight:
                    na_best = (m, g)
            elif kind == "agency_name":
                named[target] = named.get(target, 0.0) + weight
            else:
                n = end - start
                specific = weight * (_SPECIFICITY[n] if n < 64 else _specificity(n))
                ws = agency_terms.get(target)
                if ws is None:
                    agency_terms[target] = [specific]
                    first_seen[target] = start
                    agency_best[target] = (m, g)
                else:
                    ws.append(specific)
                    if weight > agency_best[target][0].weight:
                        agency_best[target] = (m, g)
        # An agency's score is its strongest term plus a little for each further one, so that
        # one matter told at length does not outweigh the matter the caller led with.
        agencies: dict[str, float] = {}
        for code, ws in agency_terms.items():
            if len(ws) == 1:
                agencies[code] = ws[0]
            else:
                strongest = max(ws)
                agencies[code] = strongest + _EXTRA * (sum(ws) - strongest)
        # The name a caller gives only helps an agency the matter already points at, or breaks
        # a silence: route by the matter, not by the name (ROUTING.md).
        for code, w in named.items():
            if code in agencies or not agencies:
                agencies[code] = agencies.get(code, 0.0) + w
                first_seen.setdefault(code, _UNSEEN)
        if len(agencies) > 1:
            ranked = sorted(agencies, key=lambda a: (-agencies[a], first_seen.get(a, _UNSEEN)))
            top = agencies[ranked[0]]
            joint = [a for a in ranked[1:] if agencies[a] >= 0.5]
        else:
            ranked = list(agencies)
            top = agencies[ranked[0]] if ranked else 0.0
            joint = []

        if danger:
            return self._danger(danger, danger_max, danger_best, links, ranked, top + na, request_type,
                                matched, norm, cues)
        if na >= _NA_MIN and not (request_type == "consultation" and top >= 1.5 * na):
            m, g = na_best  # type: ignore[misc]
            return TriageResult(
                "not_accepted", None, [], [], "not_accepted", g.subcategory, request_type, "normal",
                min(1.0, na / (na + top)), False, matched, norm, f"not taken by 12345: {m.surface} ({g.key})",
                cues,
            )
        if not ranked:
            inactive = [m for m in matched if not m.active]
            why = "only negated, past or hypothetical danger" if inactive else "no lexicon term matched"
            return TriageResult("review", None, [], [], None, None, request_type, "normal", 0.0, False,
                                matched, norm, why, cues)
        primary = ranked[0]
        second = agencies[ranked[1]] if len(ranked) > 1 else 0.0
        confidence = (top if top < 1.0 else 1.0) * (top / (top + second + 0.5 * na)) ** 0.5  # min(1, top)·…
        m, g = agency_best.get(primary) or (None, None)
        category = g.category if g else None
        subcategory = g.subcategory if g else None
        urgency = "urgent" if g is not None and g.urgent else "normal"
        if confidence < self.review_below:
            return TriageResult("review", None, [primary, *joint], [], category, subcategory, request_type,
                                urgency, confidence, False, matched, norm,
                                f"confidence {confidence:.2f} below {self.review_below}", cues)
        why = f"agency {primary} by {m.surface} ({g.key})" if m and g else f"agency {primary} named by caller"
        return TriageResult("hotline", primary, joint, [], category, subcategory, request_type, urgency,
                            confidence, False, matched, norm, why, cues)

    def _danger(self, danger: dict[str, float], danger_max: dict[str, float],
                best: dict[str, tuple[Match, Any]], links: set[str], ranked: list[str], top: float,
                request_type: str, matched: list[Match], norm: str, cues: list[Cue]) -> TriageResult:
        priority = self._priority
        if len(danger) == 1:
            route = next(iter(danger))
            strong = danger_max[route] >= _STRONG
            others: set[str] = links
        else:
            strongs = [r for r in danger if danger_max[r] >= _STRONG]
            strong = bool(strongs)
            if strongs:
                route = min(strongs, key=priority.__getitem__)
            else:
                route = max(danger, key=lambda r: (danger[r], -priority[r]))
            others = danger.keys() | links
        m, g = best[route]
        score = danger[route]
        confidence = score if score < 1.0 else 1.0  # min(1.0, score)
        linked = sorted([r for r in others if r != route], key=priority.__getitem__) if others else []
        agencies = list(ranked)  # agency codes are never empty (lexicon.check_agency)
        if not strong and top > danger[route]:
            # weak danger words against a clearer hotline or not-accepted matter: a person decides,
            # never 12345 alone
            return TriageResult("review", None, agencies, [route, *linked], route, g.subcategory,
                                request_type, "urgent", confidence, True, matched, norm,
                                f"weak danger signal {m.surface} ({g.key}) beside a hotline matter", cues)
        return TriageResult(route, None, agencies, linked, route, g.subcategory, "help", "immediate",
                            confidence, True, matched, norm, f"present danger: {m.surface} ({g.key})", cues)


def load_classifier(
    lexicon_path: str | Path, agency_codes: set[str] | None = None, review_below: float = 0.5
) -> Classifier:
    """Read, validate and compile a lexicon; raise :class:`LexiconError` naming file and key."""
    path = Path(lexicon_path)
    data = read_lexicon(path)
    nm = (data.get("normalise") or {}) if isinstance(data, dict) else {}
    norm = Normaliser(nm.get("fillers") or (), char_map=nm.get("char_map") or {}).term
    lexicon, errors = parse_lexicon(data, path, agency_codes, norm)
    if errors or lexicon is None:
        raise LexiconError(errors)
    return Classifier(lexicon, review_below)
