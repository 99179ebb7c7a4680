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
from gateway.triage.matcher import Matcher
from gateway.triage.normalise import Normaliser
from gateway.triage.result import Match, TriageResult
from gateway.triage.scope import Cue, flags, outside

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
        self._norm = Normaliser(lexicon.fillers, lexicon.pinyin_initials, lexicon.pinyin_finals,
                                lexicon.char_map)
        self._norm.prepare()
        self._matcher = Matcher(lexicon, self._norm.term, self._norm.pinyin_key, self._norm.phrase_key)
        self._groups = lexicon.groups
        self._combos = lexicon.combos
        self._full_mask = [(1 << len(c.parts)) - 1 for c in lexicon.combos]
        self._priority = {r: i for i, r in enumerate(lexicon.route_priority)}
        self._hfactor = lexicon.homophone_factor
        self._hshort = lexicon.homophone_factor_short

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

    def _matches(self, text: str) -> tuple[list[tuple[Match, Any]], list[Cue], set[str]]:
        found = self._matcher.scan(text, self._norm.pinyin_key(text))
        targets, parts = found.targets, found.parts
        # A sound-alike that overlaps an exact term or cue is those characters misheard by us, not
        # by the recogniser (一燃 in 万一燃气泄漏 is no 易燃; 老是 is no 老师).
        exact = [(t[0], t[1]) for t in targets if not t[4]] + [(c[0], c[1]) for c in found.cues]
        if exact and any(t[4] for t in targets):
            targets = [t for t in targets if not t[4] or not any(s < t[1] and t[0] < e for s, e in exact)]
        spans = list({(t[0], t[1]) for t in targets})
        cue_spans = [(c[0], c[1]) for c in found.cues]
        cues = outside(outside(found.cues, cue_spans), spans + [(p[0], p[1]) for p in parts])
        scope = self.lexicon.scope
        groups = self._groups
        hfactor, hshort = self._hfactor, self._hshort
        kept: list[tuple[Match, Any]] = []
        seen: set[tuple[int, int, int]] = set()
        # A term inside a longer term is the longer term's business (电梯 inside 电梯困人).
        for s, e, ref, term, homophone in outside(targets, spans):
            ident = (s, e, ref)
            if ident in seen:
                continue
            seen.add(ident)
            g: TermGroup = groups[ref]
            neg = past = hypo = False
            if g.kind == "danger" and cues:
                neg, past, hypo = flags(s, e, cues, scope)
            weight = g.weight * (hfactor if e - s > 2 else hshort) if homophone else g.weight
            match = Match(term, g.target, weight, s, e, neg, past, hypo, homophone, text[s:e], g.key)
            kept.append((match, g))
        if parts:
            kept.extend(self._combo_matches(parts, cues, text))
        kept.sort(key=lambda mg: mg[0].start)
        return kept, cues, found.requests

    def _combo_matches(self, parts: list[tuple[int, int, int, int, str, bool]], cues: list[Cue],
                       text: str) -> list[tuple[Match, Combo]]:
        # Most texts touch a combo with one part only: find the complete ones first, cheaply.
        seen: dict[int, int] = {}
        for h in parts:
            seen[h[2]] = seen.get(h[2], 0) | (1 << h[3])
        full = self._full_mask
        complete = {ci for ci, mask in seen.items() if mask == full[ci]}
        if not complete:
            return []
        by_combo: dict[int, list[list[tuple[int, int, int, int, str, bool]]]] = {
            ci: [[] for _ in self._combos[ci].parts] for ci in complete
        }
        for h in parts:
            if h[2] in complete:
                by_combo[h[2]][h[3]].append(h)
        out = []
        for ci, slots in by_combo.items():
            c = self._combos[ci]
            best = None
            for combo in itertools.islice(itertools.product(*slots), 64):
                lo = min(h[0] for h in combo)
                hi = max(h[1] for h in combo)
                if hi - lo <= c.window + max(h[1] - h[0] for h in combo) and (
                    best is None or hi - lo < best[1] - best[0]
                ):
                    best = (lo, hi, combo)
            if best is None:
                continue
            lo, hi, combo = best
            neg = past = hypo = False
            if c.kind == "danger" and cues:
                for h in combo:
                    n, p, y = flags(h[0], h[1], cues, self.lexicon.scope)
                    neg, past, hypo = neg or n, past or p, hypo or y
            term = "+".join(h[4] for h in sorted(combo))
            homophone = any(h[5] for h in combo)
            weight = c.weight * self._hfactor if homophone else c.weight
            match = Match(term, c.target, weight, lo, hi, neg, past, hypo, homophone, text[lo:hi], c.key)
            out.append((match, c))
        return out

    # -- decision ---------------------------------------------------------------------------

    def classify(self, text: str) -> TriageResult:
        """Route one utterance; the explanation is in ``matched`` and ``reason``."""
        norm = self._norm.text(text)
        kept, cues, requests = self._matches(norm)
        matched = [m for m, _ in kept]
        request_type = self._request_type(requests)

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

        common = {"matched": matched, "normalised": norm, "cues": cues}
        if danger:
            return self._danger(
                danger, danger_max, danger_best, links, ranked, top + na, joint, request_type, common
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
            # weak danger words against a clearer hotline or not-accepted matter: a person decides,
            # never 12345 alone
            return TriageResult("review", None, agencies, [route, *linked], route, g.subcategory,
                                request_type, "urgent", confidence, True,
                                reason=f"weak danger signal {m.surface} ({g.key}) beside a hotline matter",
                                **common)
        return TriageResult(route, None, agencies, linked, route, g.subcategory, "help", "immediate",
                            confidence, True, reason=f"present danger: {m.surface} ({g.key})", **common)

    def _request_type(self, requests: set[str]) -> str:
        if not requests:
            return self.lexicon.request_default
        return next(rt for rt in _RT_ORDER if rt in requests)


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
