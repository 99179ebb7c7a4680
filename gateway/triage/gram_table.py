"""Character 1- and 2-gram weights in flat C arrays, summed in one compiled loop per text.

What the corpus models score with when this module is compiled (setup.py):

- :class:`GramTable` (``NaiveBayes``): each known 1- or 2-gram's row holds its integer weight for
  every class and, last, a 1 that counts it as known. The sums are exact integers, so they equal
  the packed big-integer sums of the plain-Python path to the last bit.
- :class:`BigramSum` (``DangerModel``): one float per bigram, a default for unknown ones, added
  left to right as the plain-Python loop adds them, so the total is the same float.

A character is found by its code point, a bigram by an open-addressing hash of its two
characters' numbers. As plain Python these classes work too, but slower than dicts.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Mapping, Sequence

try:
    import cython  # resolved by the compiler when this module is compiled (setup.py)
except ImportError:  # plain Python without Cython installed
    from gateway.triage import _shadow as cython

COMPILED = cython.compiled  # as plain Python the dicts of naive_bayes.py and safety_net.py are faster
# Fibonacci hashing: multiply by 2^64/φ, keep the top bits
_GOLDEN = cython.declare(cython.ulonglong, 0x9E3779B97F4A7C15)
_MASK64 = (1 << 64) - 1
MAX_WIDTH = 64  # fields of a GramTable: classes + 1 (a model of more classes scores with its dicts)


def _slot(key: int, shift: int) -> int:
    return ((key * _GOLDEN) & _MASK64) >> shift


@cython.cclass
class _Bigrams:
    """Characters numbered by code point, and bigrams → a row number by hash (0: unknown)."""

    _top = cython.declare(cython.Py_ssize_t)  # code points below this may have a number
    _chars = cython.declare(cython.longlong)  # characters numbered
    _shift = cython.declare(cython.int)  # 64 − log2(hash slots)
    _mask = cython.declare(cython.ulonglong)  # hash slots − 1
    _number = cython.declare(cython.int[:])  # code point → character number (−1: unknown)
    _keys = cython.declare(cython.longlong[:])  # hash slot → bigram key a·chars + b (−1: empty)
    _rows = cython.declare(cython.int[:])  # hash slot → bigram row

    def _index(self, chars: Iterable[str], bigrams: Mapping[tuple[str, str], int]) -> None:
        """Number ``chars`` (which must hold every character of ``bigrams``) and hash ``bigrams``."""
        ordered = sorted(set(chars))
        self._top = max(map(ord, ordered), default=0) + 1
        number = array("i", [-1]) * self._top
        for i, c in enumerate(ordered):
            number[ord(c)] = i
        self._chars = len(ordered)
        bits = max(4, (2 * len(bigrams)).bit_length())
        self._shift = 64 - bits
        self._mask = (1 << bits) - 1
        keys = array("q", [-1]) * (1 << bits)
        rows = array("i", [0]) * (1 << bits)
        for (a, b), row in bigrams.items():
            key = number[ord(a)] * self._chars + number[ord(b)]
            slot = _slot(key, self._shift)
            while keys[slot] != -1:
                slot = (slot + 1) & self._mask
            keys[slot], rows[slot] = key, row
        self._number, self._keys, self._rows = number, keys, rows

    @cython.cfunc
    @cython.inline
    @cython.boundscheck(False)  # code points are checked against _top, slots are masked
    @cython.wraparound(False)
    @cython.locals(cp=cython.Py_ssize_t)
    @cython.returns(cython.longlong)
    @cython.exceptval(check=False)  # raises nothing: no error check after each call
    def _char(self, cp: int) -> int:
        return self._number[cp] if cp < self._top else -1

    @cython.cfunc
    @cython.inline
    @cython.boundscheck(False)
    @cython.wraparound(False)
    @cython.locals(a=cython.longlong, b=cython.longlong, key=cython.longlong, slot=cython.ulonglong)
    @cython.returns(cython.Py_ssize_t)
    @cython.exceptval(check=False)
    def _bigram(self, a: int, b: int) -> int:
        """The row of the bigram of character numbers ``a`` and ``b`` (both ≥ 0), or 0."""
        key = a * self._chars + b
        if cython.compiled:  # unsigned 64-bit arithmetic wraps: that is the & _MASK64
            slot = (cython.cast(cython.ulonglong, key) * _GOLDEN) >> self._shift
        else:
            slot = _slot(key, self._shift)
        while self._keys[slot] != -1:
            if self._keys[slot] == key:
                return self._rows[slot]
            slot = (slot + 1) & self._mask
        return 0


@cython.cclass
class GramTable(_Bigrams):
    """``sums(text)``: per class the sum of the weights of the text's known 1- and 2-grams, and
    their number (the last field); ``sums(text, columns)``: the same for those fields only."""

    width = cython.declare(cython.Py_ssize_t, visibility="readonly")  # fields per row
    max_chars = cython.declare(cython.Py_ssize_t, visibility="readonly")  # a text is read up to here
    _uni_row = cython.declare(cython.int[:])  # code point → unigram row (0: unknown)
    _weights = cython.declare(cython.int[:])  # rows of ``width`` fields (32-bit: half the cache misses)

    def __init__(self, rows: Iterable[tuple[str, Sequence[int]]], width: int, max_chars: int):
        """``rows``: each n-gram (one or two characters) with its ``width`` integer fields."""
        if not 0 < width <= MAX_WIDTH:
            raise ValueError(f"a table has 1 to {MAX_WIDTH} fields, not {width}")
        self.width = width
        self.max_chars = max_chars
        weights = array("i", bytes(4 * width))  # row 0, all zero: what an unknown n-gram adds
        uni: dict[str, int] = {}
        bi: dict[tuple[str, str], int] = {}
        for gram, fields in rows:
            if len(fields) != width or not 1 <= len(gram) <= 2:
                raise ValueError(f"{gram!r}: a 1- or 2-gram with {width} fields expected")
            if any(not -(1 << 31) <= f < 1 << 31 for f in fields):
                raise ValueError(f"{gram!r}: a field past 32 bits")
            row = len(weights) // width
            weights.extend(fields)
            if len(gram) == 1:
                uni[gram] = row
            else:
                bi[gram[0], gram[1]] = row
        self._index([*uni, *(c for pair in bi for c in pair)], bi)
        uni_row = array("i", [0]) * self._top
        for c, row in uni.items():
            uni_row[ord(c)] = row
        self._uni_row = uni_row
        self._weights = weights

    @cython.boundscheck(False)  # rows come from the tables built above
    @cython.wraparound(False)
    @cython.locals(text=str, n=cython.Py_ssize_t, i=cython.Py_ssize_t, j=cython.Py_ssize_t,
                   width=cython.Py_ssize_t, cp=cython.Py_ssize_t, base=cython.Py_ssize_t,
                   prev=cython.longlong, cur=cython.longlong, c=cython.Py_ssize_t)
    def sums(self, text: str, columns: Sequence[int] | None = None) -> list[int]:
        # per-call buffers on the C stack (a memoryview of a fresh array costs more than the sums)
        acc = cython.declare(cython.longlong[64])  # MAX_WIDTH (the compiler wants the number)
        col = cython.declare(cython.int[64])
        if columns is None:
            width = self.width
            for j in range(width):
                col[j] = j
        else:
            width = len(columns)
            if width > MAX_WIDTH:
                raise IndexError(f"at most {MAX_WIDTH} columns")
            for j in range(width):
                c = columns[j]
                if not 0 <= c < self.width:
                    raise IndexError(f"columns {list(columns)} outside 0..{self.width - 1}")
                col[j] = c
        for j in range(width):
            acc[j] = 0
        n = min(len(text), self.max_chars)
        prev = -1
        for i in range(n):
            cp = ord(text[i])
            cur = self._char(cp)
            if cur >= 0:
                base = self._uni_row[cp] * self.width
                if base:
                    for j in range(width):
                        acc[j] += self._weights[base + col[j]]
                if prev >= 0:
                    base = self._bigram(prev, cur) * self.width
                    if base:
                        for j in range(width):
                            acc[j] += self._weights[base + col[j]]
            prev = cur
        return [acc[j] for j in range(width)]


@cython.cclass
class BigramSum(_Bigrams):
    """``total(text)``: the sum over every bigram of the text of its value, ``unseen`` for a bigram
    not in the table, added left to right from 0.0."""

    unseen = cython.declare(cython.double, visibility="readonly")
    _values = cython.declare(cython.double[:])  # bigram row → value (row 0 unused)

    def __init__(self, values: Mapping[str, float], unseen: float):
        self.unseen = unseen
        rows = {(g[0], g[1]): i for i, g in enumerate(values, 1)}
        if any(len(g) != 2 for g in values):
            raise ValueError("bigrams only")
        self._index([c for pair in rows for c in pair], rows)
        self._values = array("d", [0.0, *values.values()])

    @cython.boundscheck(False)
    @cython.wraparound(False)
    @cython.locals(text=str, n=cython.Py_ssize_t, i=cython.Py_ssize_t, row=cython.Py_ssize_t,
                   prev=cython.longlong, cur=cython.longlong, total=cython.double)
    def total(self, text: str) -> float:
        total = 0.0
        n = len(text)
        prev = self._char(ord(text[0])) if n else -1
        for i in range(1, n):
            cur = self._char(ord(text[i]))
            row = self._bigram(prev, cur) if prev >= 0 and cur >= 0 else 0
            total += self._values[row] if row else self.unseen
            prev = cur
        return total
