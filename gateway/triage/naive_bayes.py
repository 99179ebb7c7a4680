"""A small multinomial naive Bayes over character n-grams, for texts in normalised form.

Scoring is one dict lookup and one integer addition per n-gram, whatever the number of classes:
each n-gram's weights are packed, in fixed point, into the fields of one Python integer (one
field per class, and a top field that counts known n-grams). The weights are never negative, so
fields never borrow, and they are wide enough never to carry into each other.
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from operator import add
from struct import Struct

from gateway.triage import gram_table
from gateway.triage.gram_table import GramTable

SCALE = 1 << 16  # fixed point: a weight w is stored as round(w * SCALE)
FIELD = 32  # bits per class (a C unsigned int, unpacked by struct)
MAX_CHARS = 2500  # a text is read up to here: 2 × 2,500 n-grams × the largest weight (≈ 12) fit a field


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
    known n-grams of the text: the usual NB log-likelihood ``prior_c + Σ log((count_c(g) + α) / total_c)``.
    """

    classes: tuple[str, ...]
    orders: tuple[int, ...]
    priors: tuple[float, ...]
    costs: tuple[float, ...]  # log(total_c / α): what each known n-gram costs class c
    weights: dict[str, int]  # n-gram → its packed weights log((k + α) / α), see the module docstring
    # the same weights in C arrays, summed in compiled code (gram_table.py); None as plain Python
    table: GramTable | None = field(default=None, compare=False, repr=False)

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
        fields = {gram: [0] * len(classes) + [1] for gram in vocab}  # the last field counts the n-gram
        for k, c in enumerate(classes):
            for gram, n in counts[c].items():
                fields[gram][k] = round(math.log((n + alpha) / alpha) * SCALE)
        largest = max((max(f) for f in fields.values()), default=0)
        if largest * len(orders) * MAX_CHARS >= 1 << FIELD:
            raise ValueError(f"an n-gram weight of {largest / SCALE:.1f} is too large for the packed fields")
        packed = {gram: sum(w << (FIELD * k) for k, w in enumerate(f)) for gram, f in fields.items()}
        table = None
        if gram_table.COMPILED and set(orders) <= {1, 2} and len(classes) < gram_table.MAX_WIDTH:
            table = GramTable(fields.items(), len(classes) + 1, MAX_CHARS)
        return cls(
            classes=classes,
            orders=tuple(orders),
            priors=tuple(math.log(docs[c] / total) for c in classes),
            costs=tuple(math.log((sum(counts[c].values()) + alpha * len(vocab)) / alpha) for c in classes),
            weights=packed,
            table=table,
        )

    @functools.cached_property
    def _fields(self) -> Struct:
        return Struct(f"<{len(self.classes) + 1}I")

    @functools.cached_property
    def _index(self) -> dict[str, int]:
        return {c: k for k, c in enumerate(self.classes)}

    def scores(self, text: str, classes: Sequence[str] | None = None) -> list[float]:
        """Log-likelihood of each class (in ``classes`` order; of every class if None; a class the
        model does not know raises KeyError); unknown n-grams are left out."""
        ks = range(len(self.classes)) if classes is None else [self._index[c] for c in classes]
        if self.table is None:
            fields = self._packed_sums(text)
            fields = [*(fields[k] for k in ks), fields[-1]]
        else:  # only the fields asked for are summed: 3 of 21 agencies is a seventh of the work
            fields = self.table.sums(text, None if classes is None else [*ks, len(self.classes)])
        known = fields[-1]
        priors, costs = self.priors, self.costs
        return [priors[k] - known * costs[k] + f / SCALE for k, f in zip(ks, fields, strict=False)]

    def _packed_sums(self, text: str) -> tuple[int, ...]:
        text = text[:MAX_CHARS]
        get = self.weights.get
        total = 0
        for n in self.orders:  # each order's n-grams made and looked up in C, not in a Python loop
            grams = text if n == 1 else map(add, text, text[1:]) if n == 2 else ngrams(text, (n,))
            total += sum(map(get, grams, repeat(0)))
        return self._fields.unpack(total.to_bytes(self._fields.size, "little"))

    def ranked(self, text: str) -> list[tuple[float, str]]:
        """``(posterior probability, class)`` of every class, most likely first."""
        scores = self.scores(text)
        top = max(scores)
        exp = [math.exp(s - top) for s in scores]
        z = sum(exp)
        return sorted(((e / z, c) for e, c in zip(exp, self.classes, strict=True)), reverse=True)

    def best(self, text: str) -> tuple[str, float]:
        """The most likely class and its posterior probability."""
        scores = self.scores(text)
        top = max(scores)
        return self.classes[scores.index(top)], 1.0 / sum([math.exp(s - top) for s in scores])
