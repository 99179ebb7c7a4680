"""What our labelled calls say when the keywords are unsure, or split between agencies.

Three naive Bayes models (``naive_bayes.py``, character 1- and 2-grams) are trained at start-up
on the same corpus as the danger model (``triage.danger_corpus``):

- *kind*: emergency, hotline or not_accepted (all calls);
- *desk*: police, fire, medical or emergency (emergency calls only);
- *agency*: the 12345 agency (hotline calls only).

They revise the keywords' answer in these cases, and only there:

1. ``review`` with danger seen (by a keyword or the danger model): the desk model picks the desk.
   The call stays an emergency; it only reaches a desk instead of waiting for a person.
2. ``review`` with no danger seen: the kind model decides. Emergency → a desk, as in 1. Hotline
   or not_accepted only if the danger model also reads the wording as safe (``net_max``): then
   the agency model picks the agency, among the keywords' candidates when there are any.
3. ``hotline`` with several candidate agencies: the one the agency model finds ``candidate_odds``
   times likelier than the keywords' first choice leads, the others stay joint agencies.
4. ``hotline``, only if ``agency_min`` is set: if the agency model is that sure of another
   agency, that one leads and the keywords' agency is kept as a joint agency. Off by default: on
   text by other authors the model's certainty proved no better than the keywords' choice.

A call routed to a desk by the keywords is never moved, and no call is diverted to the hotline
or refused while the danger model finds it alarming.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace

from gateway.triage.lexicon import Lexicon
from gateway.triage.naive_bayes import NaiveBayes
from gateway.triage.result import EMERGENCY_ROUTES, TriageResult

Row = tuple[str, str, "str | None"]  # normalised text, route, agency


@dataclass(frozen=True)
class Thresholds:
    """Posterior probabilities each step needs (see the module docstring)."""

    desk_min: float = 0.5
    kind_min: float = 0.8
    net_max: float = 0.1
    agency_min: float | None = None  # None: never overrule the keywords' agency
    candidate_odds: float | None = 100.0  # among the keywords' own candidates (None: off)


def corpus_problem(rows: list[Row]) -> str | None:
    """Why the models cannot learn from ``rows`` (each needs two classes at least), or None."""
    desks = {r for _, r, _ in rows if r in EMERGENCY_ROUTES}
    agencies = {a for _, r, a in rows if r == "hotline" and a}
    if len(desks) < 2 or len(agencies) < 2:
        return "the second opinion needs emergency calls for two desks and hotline calls for two agencies"
    return None


@dataclass(frozen=True)
class CorpusModels:
    kind: NaiveBayes
    desk: NaiveBayes
    agency: NaiveBayes

    @classmethod
    def train(cls, rows: Iterable[Row]) -> CorpusModels:
        """From labelled calls (``review`` ones teach the kind model what too little to go on looks like)."""
        rows = list(rows)
        problem = corpus_problem(rows)
        if problem:
            raise ValueError(problem)
        return cls(
            kind=NaiveBayes.train((t, "emergency" if r in EMERGENCY_ROUTES else r) for t, r, _ in rows),
            desk=NaiveBayes.train((t, r) for t, r, _ in rows if r in EMERGENCY_ROUTES),
            agency=NaiveBayes.train((t, a) for t, r, a in rows if r == "hotline" and a),
        )


def _categories(lexicon: Lexicon) -> dict[str, tuple[str | None, str | None]]:
    """Each agency's most common (category, subcategory) in the lexicon: what a ticket shows when
    the agency came from the model rather than from a matched term."""
    seen: dict[str, Counter[tuple[str | None, str | None]]] = {}
    for g in lexicon.groups:
        if g.kind == "hotline":
            seen.setdefault(g.target, Counter())[g.category, g.subcategory] += len(g.terms)
    return {agency: c.most_common(1)[0][0] for agency, c in seen.items()}


class SecondOpinion:
    """``revise(result, danger_probability)``: the keywords' result, or the corpus models' view."""

    def __init__(self, models: CorpusModels, lexicon: Lexicon, thresholds: Thresholds = Thresholds()):
        self.models = models
        self.thresholds = thresholds
        self._categories = _categories(lexicon)
        self._agency_groups = {g.key: g for g in lexicon.groups if g.kind == "hotline"}

    def revise(self, result: TriageResult, danger_probability: float) -> TriageResult:
        if result.route == "review":
            if result.danger:
                return self._to_desk(result, "danger seen")
            kind, p = self.models.kind.best(result.normalised)
            if kind == "review" or p < self.thresholds.kind_min:
                return result
            if kind == "emergency":
                return self._to_desk(result, f"the corpus model reads an emergency (p={p:.2f})")
            if danger_probability >= self.thresholds.net_max:
                return result
            if kind == "not_accepted":
                why = f"corpus model: not for 12345 (p={p:.2f}); keywords: {result.reason}"
                return replace(result, route="not_accepted", reason=why)
            return self._to_agency(result, p)
        if result.route == "hotline" and self.thresholds.agency_min is not None:
            agency, p = self.models.agency.best(result.normalised)
            if agency != result.agency and p >= self.thresholds.agency_min:
                joint = [result.agency, *[a for a in result.joint_agencies if a != agency]]
                return self._with_agency(result, agency, joint,
                                         f"corpus model: agency {agency} (p={p:.2f}) over the keywords' "
                                         f"{result.agency}; {result.reason}")
        if result.route == "hotline" and result.joint_agencies and self.thresholds.candidate_odds is not None:
            return self._pick_candidate(result, self.thresholds.candidate_odds)
        return result

    def _pick_candidate(self, result: TriageResult, odds: float) -> TriageResult:
        """Of the agencies the keywords found, the one the agency model finds ``odds`` times likelier
        than the keywords' first choice leads (their scores are often close: 漏水 in a flat with a
        landlord names water and housing alike)."""
        model = self.models.agency
        asked = [a for a in (result.agency, *result.joint_agencies) if a in model.classes]
        scores = dict(zip(asked, model.scores(result.normalised, asked), strict=True))
        primary = scores.get(result.agency, -math.inf)  # type: ignore[arg-type]
        best = max(result.joint_agencies, key=lambda a: scores.get(a, -math.inf))
        if scores.get(best, -math.inf) - primary <= math.log(odds):
            return result
        joint = [result.agency, *[a for a in result.joint_agencies if a != best]]  # type: ignore[list-item]
        return self._with_agency(result, best, joint,
                                 f"corpus model: of the agencies matched, {best} is "
                                 f"{min(math.exp(scores[best] - primary), 1e9):.0f}× likelier than "
                                 f"{result.agency}; {result.reason}")

    def _to_desk(self, result: TriageResult, why: str) -> TriageResult:
        desk, p = self.models.desk.best(result.normalised)
        if p < self.thresholds.desk_min:
            return result
        linked = [r for r in result.linked_routes if r != desk]
        return replace(result, route=desk, agency=None, linked_routes=linked, category=desk,
                       request_type="help", urgency="immediate", danger=True,
                       reason=f"{why}; the corpus model picks the {desk} desk (p={p:.2f}). {result.reason}")

    def _to_agency(self, result: TriageResult, p_kind: float) -> TriageResult:
        ranked = self.models.agency.ranked(result.normalised)
        candidates = result.joint_agencies  # a review's agency candidates, by the keywords' score
        p, agency = next((x for x in ranked if x[1] in candidates), ranked[0]) if candidates else ranked[0]
        joint = [a for a in candidates if a != agency]
        return self._with_agency(result, agency, joint,
                                 f"corpus model: a 12345 matter (p={p_kind:.2f}) for {agency} (p={p:.2f}); "
                                 f"keywords: {result.reason}")

    def _with_agency(self, result: TriageResult, agency: str, joint: list[str], why: str) -> TriageResult:
        category, subcategory = self._categories.get(agency, (None, None))
        for m in result.matched:  # a matched term of that agency names the category better
            g = self._agency_groups.get(m.key)
            if g is not None and g.target == agency and m.active:
                category, subcategory = g.category, g.subcategory
                break
        return replace(result, route="hotline", agency=agency, joint_agencies=joint, category=category,
                       subcategory=subcategory, reason=why)
