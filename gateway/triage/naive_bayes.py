"""A small multinomial naive Bayes over character n-grams, for texts in normalised form.

Sparse on purpose: each n-gram keeps only the classes it was seen in, so scoring a text costs
one dict lookup per n-gram plus one addition per (n-gram, class) seen together in training.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


def ngrams(text: str, orders: Sequence[int]) -> list[str]:
    """Every substring of ``text`` of each length in ``orders``, in order."""
    out: list[str] = []
    for n in orders:
        out += [text[i:i + n] for i in range(len(text) - n + 1)]
    return out


@dataclass(frozen=True)
class NaiveBayes:
    """``best(text)``: the most likely class and its posterior probability.

    Laplace-smoothed with ``alpha``; an n-gram never seen in training says nothing. The score of
    class ``c`` is ``prior_c + Σ log((count_c(g) + α) / α) − n·log(total_c / α)`` over the ``n``
    known n-grams of the text, which is the usual NB log-likelihood up to a constant.
    """

    classes: tuple[str, ...]
    orders: tuple[int, ...]
    priors: tuple[float, ...]
    costs: tuple[float, ...]  # log(total_c / α): what each known n-gram costs class c
    weights: dict[str, tuple[tuple[int, float], ...]]  # n-gram → (class index, log((k + α) / α))

    @classmethod
    def train(cls, samples: Iterable[tuple[str, str]], orders: Sequence[int] = (1, 2),
              alpha: float = 0.1) -> NaiveBayes:
        """From ``(normalised text, class)`` pairs; raises ValueError with fewer than two classes."""
        counts: dict[str, Counter[str]] = {}
        docs: Counter[str] = Counter()
        for text, label in samples:
            docs[label] += 1
            counts.setdefault(label, Counter()).update(ngrams(text, orders))
        if len(docs) < 2:
            raise ValueError(f"naive Bayes needs at least two classes, got {sorted(docs)}")
        classes = tuple(sorted(docs))
        vocab = set().union(*counts.values())
        total = sum(docs.values())
        entries: dict[str, list[tuple[int, float]]] = {}
        for k, c in enumerate(classes):
            for gram, n in counts[c].items():
                entries.setdefault(gram, []).append((k, math.log((n + alpha) / alpha)))
        return cls(
            classes=classes,
            orders=tuple(orders),
            priors=tuple(math.log(docs[c] / total) for c in classes),
            costs=tuple(math.log((sum(counts[c].values()) + alpha * len(vocab)) / alpha) for c in classes),
            weights={g: tuple(e) for g, e in entries.items()},
        )

    def scores(self, text: str) -> list[float]:
        """Log-likelihood of each class (in ``classes`` order), up to a shared constant."""
        acc = [0.0] * len(self.classes)
        known = 0
        get = self.weights.get
        for gram in ngrams(text, self.orders):
            entries = get(gram)
            if entries is None:
                continue
            known += 1
            for k, w in entries:
                acc[k] += w
        return [p - known * c + a for p, c, a in zip(self.priors, self.costs, acc, strict=True)]

    def ranked(self, text: str) -> list[tuple[float, str]]:
        """``(posterior probability, class)`` of every class, most likely first."""
        scores = self.scores(text)
        top = max(scores)
        exp = [math.exp(s - top) for s in scores]
        z = sum(exp)
        return sorted(((e / z, c) for e, c in zip(exp, self.classes, strict=True)), reverse=True)

    def best(self, text: str) -> tuple[str, float]:
        p, c = self.ranked(text)[0]
        return c, p
