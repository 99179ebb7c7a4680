"""The triage decision: danger first, then not-accepted matters, then the 12345 agency."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from gateway.triage.lexicon import (
    Combo,
    Lexicon,
    LexiconError,
    TermGroup,
    parse_lexicon,
    read_lexicon,
)
from gateway.triage.matcher import COMBO, GROUP, REQUEST, SCOPE, Hit, Matcher
from gateway.triage.normalise import Normaliser
from gateway.triage.result import Match, TriageResult
from gateway.triage.scope import Cue, flags, keep_longest

# Request types, most specific first: a call that reports and asks is a report.
_RT_ORDER = ("report", "complaint", "suggestion", "consultation", "help")
_EXTRA = 0.3  # weight of each further term of an agency
_NA_MIN = 0.75  # not-accepted evidence needed to refuse a matter
_STRONG = 0.75  # a danger term this heavy (a full term, or its homophone) is a strong signal


def _specific(weight: float, length: int) -> float:
    """Longer phrases are more specific than short words: up to 30% more weight."""
    return weight * min(1.3, 1.0 + 0.1 * max(0, length - 2))


class Classifier:
    """Built once from a lexicon; :meth:`classify` is pure and safe to call from many threads."""

    def __init__(self, lexicon: Lexicon, review_below: float = 0.5):
        self.lexicon = lexicon
        self.review_below = review_below
        self._norm = Normaliser(lexicon.fillers, lexicon.pinyin_initials, lexicon.pinyin_finals)
        self._norm.prepare()
        self._matcher = Matcher(lexicon, self._norm.term, self._norm.pinyin_key)
        self._groups = lexicon.groups
        self._combos = lexicon.combos
        self._priority = {r: i for i, r in enumerate(lexicon.route_priority)}
        self._hfactor = lexicon.homophone_factor

    @classmethod
    def from_config(cls, config: Any) -> Classifier:
        """From a loaded :class:`gateway.config.Config` (lexicon path, agencies, threshold)."""
        return load_classifier(config.lexicon_path, config.agency_codes(), config.gateway.triage.review_below)

    @property
    def terms(self) -> int:
        """How many distinct normalised terms and cues the automaton holds."""
        return self._matcher.size

    def normalise(self, text: str) -> str:
        return self._norm.text(text)

    # -- matching ---------------------------------------------------------------------------

    def _matches(self, text: str) -> tuple[list[Match], list[Cue], list[str], list[tuple[Match, Any]]]:
        hits = self._matcher.scan(text, self._norm.pinyin_key(text))
        cues: list[Cue] = []
        targets: list[Hit] = []
        parts: list[Hit] = []
        requests: list[str] = []
        for h in hits:
            if h.kind == GROUP:
                targets.append(h)
            elif h.kind == SCOPE:
                cues.append(Cue(h.start, h.end, h.ref))  # type: ignore[arg-type]
            elif h.kind == COMBO:
                parts.append(h)
            elif h.kind == REQUEST:
                requests.append(h.ref)  # type: ignore[arg-type]
        # A cue inside a term is part of the term (the 没 of 没反应 negates nothing).
        spans = [(h.start, h.end) for h in targets] + [(h.start, h.end) for h in parts]
        cues = [c for c in keep_longest(cues)
                if not any(s <= c.start and c.end <= e and (c.start, c.end) != (s, e) for s, e in spans)]
        scope = self.lexicon.scope
        # A term inside a longer term is the longer term's business (电梯 inside 电梯困人).
        spans = list({(h.start, h.end) for h in targets})
        kept: list[tuple[Match, Any]] = []
        seen: set[tuple[int, int, int]] = set()
        for h in targets:
            if any(s <= h.start and h.end <= e and (e - s) > (h.end - h.start) for s, e in spans):
                continue
            ident = (h.start, h.end, h.ref)  # type: ignore[assignment]
            if ident in seen:
                continue
            seen.add(ident)  # type: ignore[arg-type]
            g: TermGroup = self._groups[h.ref]  # type: ignore[index]
            neg = past = hypo = False
            if g.kind == "danger":
                neg, past, hypo = flags(h.start, h.end, cues, scope)
            weight = g.weight * (self._hfactor if h.homophone else 1.0)
            kept.append((Match(h.term, g.target, round(weight, 3), h.start, h.end, neg, past, hypo,
                               h.homophone, text[h.start:h.end], g.key), g))
        kept.extend(self._combo_matches(parts, cues, text))
        kept.sort(key=lambda mg: mg[0].start)
        return [m for m, _ in kept], cues, requests, kept

    def _combo_matches(self, parts: list[Hit], cues: list[Cue], text: str) -> list[tuple[Match, Combo]]:
        if not parts:
            return []
        by_combo: dict[int, list[list[Hit]]] = {}
        for h in parts:
            c = self._combos[h.ref]  # type: ignore[index]
            slots = by_combo.setdefault(h.ref, [[] for _ in c.parts])  # type: ignore[arg-type]
            slots[h.part].append(h)
        out = []
        for ci, slots in by_combo.items():
            if not all(slots):
                continue
            c = self._combos[ci]
            best = None
            for combo in itertools.islice(itertools.product(*slots), 64):
                lo = min(h.start for h in combo)
                hi = max(h.end for h in combo)
                if hi - lo <= c.window + max(h.end - h.start for h in combo) and (
                    best is None or hi - lo < best[1] - best[0]
                ):
                    best = (lo, hi, combo)
            if best is None:
                continue
            lo, hi, combo = best
            neg = past = hypo = False
            if c.kind == "danger":
                for h in combo:
                    n, p, y = flags(h.start, h.end, cues, self.lexicon.scope)
                    neg, past, hypo = neg or n, past or p, hypo or y
            term = "+".join(h.term for h in sorted(combo))
            homophone = any(h.homophone for h in combo)
            weight = c.weight * (self._hfactor if homophone else 1.0)
            out.append((Match(term, c.target, round(weight, 3), lo, hi, neg, past, hypo, homophone,
                              text[lo:hi], c.key), c))
        return out

    # -- decision ---------------------------------------------------------------------------

    def classify(self, text: str) -> TriageResult:
        """Route one utterance; the explanation is in ``matched`` and ``reason``."""
        norm = self._norm.text(text)
        matched, cues, requests, kept = self._matches(norm)
        request_type = self._request_type(requests)
        cue_dicts = [
            {"cue": c.name, "start": c.start, "end": c.end, "text": norm[c.start:c.end]} for c in cues
        ]

        danger: dict[str, float] = {}
        danger_max: dict[str, float] = {}
        danger_best: dict[str, tuple[Match, Any]] = {}
        links: set[str] = set()
        na = 0.0
        na_best: tuple[Match, Any] | None = None
        agencies: dict[str, float] = {}
        first_seen: dict[str, int] = {}
        agency_best: dict[str, tuple[Match, Any]] = {}
        named: dict[str, float] = {}
        agency_terms: dict[str, list[float]] = {}
        counted: set[tuple[str, str]] = set()
        for m, g in kept:
            if (m.key, m.term) in counted:
                continue  # the same term said twice counts once
            counted.add((m.key, m.term))
            if g.kind == "danger":
                if not m.active:
                    continue
                danger[m.target] = danger.get(m.target, 0.0) + m.weight
                if m.weight > danger_max.get(m.target, 0.0):
                    danger_max[m.target] = m.weight
                    danger_best[m.target] = (m, g)
                links.update(g.links)
            elif g.kind == "not_accepted":
                na += m.weight
                if na_best is None or m.weight > na_best[0].weight:
                    na_best = (m, g)
            elif g.kind == "agency_name":
                named[m.target] = named.get(m.target, 0.0) + m.weight
            else:
                agency_terms.setdefault(m.target, []).append(_specific(m.weight, m.end - m.start))
                first_seen.setdefault(m.target, m.start)
                best = agency_best.get(m.target)
                if best is None or m.weight > best[0].weight:
                    agency_best[m.target] = (m, g)
        # An agency's score is its strongest term plus a little for each further one, so that
        # one matter told at length does not outweigh the matter the caller led with.
        for code, ws in agency_terms.items():
            agencies[code] = max(ws) + _EXTRA * (sum(ws) - max(ws))
        # The name a caller gives only helps an agency the matter already points at, or breaks
        # a silence: route by the matter, not by the name (ROUTING.md).
        for code, w in named.items():
            if code in agencies or not agencies:
                agencies[code] = agencies.get(code, 0.0) + w
                first_seen.setdefault(code, 10**6)
        ranked = sorted(agencies, key=lambda a: (-agencies[a], first_seen.get(a, 10**6)))
        top = agencies[ranked[0]] if ranked else 0.0
        joint = [a for a in ranked[1:] if agencies[a] >= 0.5]

        common = dict(matched=matched, normalised=norm, cues=cue_dicts)
        if danger:
            return self._danger(
                danger, danger_max, danger_best, links, ranked, top, joint, request_type, common
            )
        if na >= _NA_MIN and not (request_type == "consultation" and top >= 1.5 * na):
            m, g = na_best  # type: ignore[misc]
            return TriageResult(
                "not_accepted", None, [], [], "not_accepted", g.subcategory, request_type, "normal",
                min(1.0, na / (na + top)), False, reason=f"not taken by 12345: {m.surface} ({g.key})",
                **common,
            )
        if not ranked:
            inactive = [m for m in matched if not m.active]
            why = "only negated, past or hypothetical danger" if inactive else "no lexicon term matched"
            return TriageResult("review", None, [], [], None, None, request_type, "normal", 0.0, False,
                                reason=why, **common)
        primary = ranked[0]
        second = agencies[ranked[1]] if len(ranked) > 1 else 0.0
        confidence = min(1.0, top) * (top / (top + second + 0.5 * na)) ** 0.5
        m, g = agency_best.get(primary) or (None, None)
        category = g.category if g else None
        subcategory = g.subcategory if g else None
        urgency = "urgent" if g is not None and g.urgent else "normal"
        if confidence < self.review_below:
            return TriageResult("review", None, [primary, *joint], [], category, subcategory, request_type,
                                urgency, confidence, False,
                                reason=f"confidence {confidence:.2f} below {self.review_below}", **common)
        why = f"agency {primary} by {m.surface} ({g.key})" if m and g else f"agency {primary} named by caller"
        return TriageResult("hotline", primary, joint, [], category, subcategory, request_type, urgency,
                            confidence, False, reason=why, **common)

    def _danger(self, danger: dict[str, float], danger_max: dict[str, float],
                best: dict[str, tuple[Match, Any]], links: set[str], ranked: list[str], top: float,
                joint: list[str], request_type: str, common: dict[str, Any]) -> TriageResult:
        strong = [r for r in danger if danger_max[r] >= _STRONG]
        if strong:
            route = min(strong, key=lambda r: self._priority[r])
        else:
            route = max(danger, key=lambda r: (danger[r], -self._priority[r]))
        m, g = best[route]
        confidence = min(1.0, danger[route])
        linked = sorted((set(danger) | links) - {route}, key=lambda r: self._priority[r])
        agencies = [a for a in ranked if a]
        if not strong and top > danger[route]:
            # weak danger words against a clear hotline matter: a person decides, never 12345 alone
            return TriageResult("review", None, agencies, [route, *linked], route, g.subcategory,
                                request_type, "urgent", confidence, True,
                                reason=f"weak danger signal {m.surface} ({g.key}) beside a hotline matter",
                                **common)
        return TriageResult(route, None, agencies, linked, route, g.subcategory, "help", "immediate",
                            confidence, True, reason=f"present danger: {m.surface} ({g.key})", **common)

    def _request_type(self, requests: list[str]) -> str:
        if not requests:
            return self.lexicon.request_default
        found = set(requests)
        return next(rt for rt in _RT_ORDER if rt in found)


def load_classifier(
    lexicon_path: str | Path, agency_codes: set[str] | None = None, review_below: float = 0.5
) -> Classifier:
    """Read, validate and compile a lexicon; raise :class:`LexiconError` naming file and key."""
    path = Path(lexicon_path)
    data = read_lexicon(path)
    fillers = data.get("normalise", {}).get("fillers") if isinstance(data, dict) else None
    norm = Normaliser(fillers or ()).term
    lexicon, errors = parse_lexicon(data, path, agency_codes, norm)
    if errors or lexicon is None:
        raise LexiconError(errors)
    return Classifier(lexicon, review_below)
