"""A second look for danger the lexicon has no word for.

Keywords only know the wordings someone wrote down; a caller describes the same danger in words
nobody listed (老人在屋里喊不应, 里面关了五个人). Behind the lexicon sits a small character
bigram model (multinomial naive Bayes over the normalised text) trained on our own labelled
corpora (``config/triage_corpus/``): when the lexicon would send a call to the hotline or refuse
it, but its wording reads like an emergency, the call goes to a person (``review``, ``danger``)
instead. It only ever moves a call towards a human; it never diverts one.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from gateway.triage import gram_table
from gateway.triage.gram_table import BigramSum
from gateway.triage.naive_bayes import ngrams
from gateway.triage.result import EMERGENCY_ROUTES, TriageResult
from gateway.triage.second_opinion import CorpusModels, SecondOpinion, Thresholds, corpus_problem

try:
    import cython  # resolved by the compiler when this module is compiled (setup.py)
except ImportError:  # plain Python without Cython installed
    from gateway.triage import _shadow as cython

MIN_CHARS = 8  # shorter calls carry too few n-grams to judge; the lexicon alone decides them


class CorpusError(ValueError):
    """A training corpus the net cannot use; the message names the file and line."""


def _require_both(emergencies: int, others: int) -> None:
    if not emergencies or not others:
        raise CorpusError("the danger model needs emergency and non-emergency examples")


@dataclass(frozen=True)
class DangerModel:
    """``score(text)``: log-odds that a normalised text is an emergency call, from its bigrams (as
    discriminating on our corpora as 1- to 3-grams together, at a third of the cost per call)."""

    prior: float
    unseen: float
    weights: dict[str, float]
    rows: int
    # the same weights in C arrays, summed in compiled code (gram_table.py); None as plain Python
    table: BigramSum | None = field(default=None, compare=False, repr=False)

    @classmethod
    def train(cls, samples: Iterable[tuple[str, bool]]) -> DangerModel:
        """From ``(normalised text, is emergency)`` pairs: bigram counts, Laplace smoothing."""
        counts = {True: Counter[str](), False: Counter[str]()}
        docs = {True: 0, False: 0}
        for text, emergency in samples:
            docs[emergency] += 1
            counts[emergency].update(ngrams(text, (2,)))
        _require_both(docs[True], docs[False])
        vocab = set(counts[True]) | set(counts[False])
        denom = {y: sum(counts[y].values()) + len(vocab) for y in (True, False)}
        weights = {
            g: math.log((counts[True][g] + 1) / denom[True]) - math.log((counts[False][g] + 1) / denom[False])
            for g in vocab
        }
        unseen = math.log(1 / denom[True]) - math.log(1 / denom[False])
        table = BigramSum(weights, unseen) if gram_table.COMPILED else None
        return cls(prior=math.log(docs[True] / docs[False]), unseen=unseen, weights=weights,
                   rows=docs[True] + docs[False], table=table)

    @cython.locals(text=str, weights=dict, total=cython.double, w=cython.double, i=cython.Py_ssize_t)
    def score(self, text: str) -> float:
        # the weights added one after the other from 0.0, as sum() does on Python 3.11 (later
        # versions compensate rounding there); the same in C (BigramSum) and as plain Python
        if self.table is not None:
            return self.prior + self.table.total(text)
        weights, unseen = self.weights, self.unseen
        total = 0.0
        for i in range(len(text) - 1):
            w = weights.get(text[i:i + 2], unseen)
            total += w
        return self.prior + total

    def probability(self, text: str) -> float:
        return _odds_to_probability(self.score(text))


def _odds_to_probability(log_odds: float) -> float:
    return 1 / (1 + math.exp(-log_odds)) if log_odds > -700 else 0.0


def read_rows(paths: Iterable[Path], normalise: Callable[[str], str]) -> list[tuple[str, str, str | None]]:
    """``{"text", "route", "agency"}`` JSON lines (the eval format) → ``(normalised text, route, agency)``."""
    rows = []
    for path in paths:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                text, route, agency = row["text"], row["route"], row.get("agency")
                if not isinstance(text, str) or not isinstance(route, str):
                    raise TypeError("text and route must be strings")
            except (ValueError, KeyError, TypeError) as exc:
                raise CorpusError(f"{path}:{n}: not a {{text, route}} JSON line ({exc})") from None
            rows.append((normalise(text), route, agency))
    return rows


def danger_samples(rows: Iterable[tuple[str, str, str | None]]) -> list[tuple[str, bool]]:
    """``(normalised text, route, agency)`` rows → the danger model's ``(text, is emergency)``."""
    return [(text, route in EMERGENCY_ROUTES) for text, route, _ in rows]


def read_corpus(paths: Iterable[Path], normalise: Callable[[str], str]) -> list[tuple[str, bool]]:
    """``{"text", "route"}`` JSON lines → ``(normalised text, is emergency)``."""
    return danger_samples(read_rows(paths, normalise))


def corpus_files(directory: Path) -> list[Path]:
    files = sorted(directory.glob("*.jsonl"))
    if not files:
        raise CorpusError(f"{directory}: no *.jsonl training corpus")
    return files


class GuardedClassifier:
    """A :class:`~gateway.triage.Classifier` with the danger model behind it (same API), and
    optionally the corpus models' second opinion (``second_opinion.py``) after that."""

    def __init__(self, classifier: object, model: DangerModel, threshold: float,
                 second: SecondOpinion | None = None):
        self.classifier = classifier
        self.model = model
        self.threshold = threshold
        self.log_odds = math.log(threshold / (1 - threshold)) if 0 < threshold < 1 else math.inf
        self.second = second

    def __getattr__(self, name: str) -> object:  # terms, normalise, lexicon ...
        return getattr(self.classifier, name)

    def classify(self, text: str) -> TriageResult:
        result = self.classifier.classify(text)  # type: ignore[attr-defined]
        if result.route in EMERGENCY_ROUTES or (result.route == "review" and self.second is None):
            return result
        score = self.model.score(result.normalised) if len(result.normalised) >= MIN_CHARS else -math.inf
        if result.route != "review" and score >= self.log_odds:
            was = result.route + (f"/{result.agency}" if result.agency else "")
            p = _odds_to_probability(score)
            reason = (f"safety net: the wording reads like an emergency (p={p:.2f}) "
                      f"though the keywords said {was}; a person decides. {result.reason}").strip()
            # dataclasses.replace(result, route="review", agency=None, joint_agencies=[], danger=True, …)
            r = result
            result = TriageResult("review", None, [], r.linked_routes, r.category, r.subcategory,
                                  r.request_type, r.urgency, r.confidence, True, r.matched, r.normalised,
                                  reason, r.cues)
        if self.second is None:
            return result
        # too short to judge is not judged safe: the second opinion may then send it to a desk only
        return self.second.revise(result, _odds_to_probability(score) if score > -math.inf else 1.0)


def guard(classifier: object, config: object) -> object:
    """``classifier`` behind the danger model that ``triage.danger_corpus`` names (or as it is),
    with the corpus models' second opinion when ``triage.second_opinion`` is set."""
    triage = config.gateway.triage  # type: ignore[attr-defined]
    if not triage.danger_corpus:
        return classifier
    files = corpus_files(config.config_dir / triage.danger_corpus)  # type: ignore[attr-defined]
    rows = read_rows(files, classifier.normalise)  # type: ignore[attr-defined]
    model = DangerModel.train(danger_samples(rows))
    second = None
    if triage.second_opinion is not None:
        second = SecondOpinion(CorpusModels.train(rows), classifier.lexicon,  # type: ignore[attr-defined]
                               Thresholds(**triage.second_opinion.model_dump()))
    return GuardedClassifier(classifier, model, triage.danger_threshold, second)


def check_config(config: object) -> list[str]:
    """``CHECKERS`` entry: the danger corpus exists, every line is usable and the models have the
    classes they need (checked without training them: the gateway trains them once it starts)."""
    triage = config.gateway.triage  # type: ignore[attr-defined]
    if not triage.danger_corpus:
        return []
    try:
        files = corpus_files(config.config_dir / triage.danger_corpus)  # type: ignore[attr-defined]
        rows = read_rows(files, lambda t: t)
        emergencies = sum(e for _, e in danger_samples(rows))
        _require_both(emergencies, len(rows) - emergencies)
    except (CorpusError, OSError) as exc:
        return [f"gateway.yaml: triage.danger_corpus: {exc}"]
    problem = corpus_problem(rows) if triage.second_opinion is not None else None
    if problem:
        return [f"gateway.yaml: triage.second_opinion: {problem} (or set second_opinion: null)"]
    return []
