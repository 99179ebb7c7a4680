"""An Aho-Corasick automaton over C arrays, searched in one compiled loop (setup.py).

:func:`build` gives the automaton the triage matcher and the normaliser search with: this one
when the module is compiled, else ``ahocorasick_rs`` (faster than any plain-Python loop). Both
report every occurrence of every pattern, overlapping, by end and, of those ending together, the
longest first, as ``(pattern index, start, end)`` in characters of the text.

With an ``alias`` table (code point → character), a text character is read as its alias: the
matcher finds homophones by searching the transcript as if written in pinyin keys, without
writing that key string.

The trie's edges are kept per state as a sorted run of (character number, child) pairs and found
by binary search; the root, which has most of them, has a table by character number.
"""

from __future__ import annotations

import re
from array import array
from collections import deque
from collections.abc import Mapping, Sequence

import ahocorasick_rs

try:
    import cython  # resolved by the compiler when this module is compiled (setup.py)
except ImportError:  # plain Python without Cython installed
    from gateway.triage import _shadow as cython

COMPILED = cython.compiled
_LIST_END = 0xA000  # RustAutomaton translates code points below this with a list (faster than a dict)


class RustAutomaton:
    """``ahocorasick_rs`` behind the interface of :class:`Automaton` (used as plain Python)."""

    def __init__(self, patterns: Sequence[str], alias: Mapping[int, str] | None = None):
        self._ac = ahocorasick_rs.AhoCorasick(list(patterns), matchkind=ahocorasick_rs.MatchKind.Standard)
        self._alias = dict(alias or {})
        # identity, but for the aliases (only built when there are any)
        table: list[int | str] = list(range(_LIST_END)) if self._alias else []
        for cp, c in self._alias.items():
            if cp < _LIST_END:
                table[cp] = c
        self._list = table
        self._beyond = re.compile(f"[^\\x00-{chr(_LIST_END - 1)}]").search

    def _read(self, text: str) -> str:
        if not self._alias:
            return text
        return text.translate(self._alias if self._beyond(text) else self._list)

    def find(self, text: str) -> list[tuple[int, int, int]]:
        return self._ac.find_matches_as_indexes(self._read(text), overlapping=True)

    def contains(self, text: str) -> bool:
        return bool(self._ac.find_matches_as_indexes(self._read(text)))


@cython.cclass
class Automaton:
    """Every pattern (non-empty, distinct) found in a text (each character read as its ``alias``,
    if it has one): :meth:`find`, :meth:`contains`."""

    _top = cython.declare(cython.Py_ssize_t)  # code points below this may have a number
    _number = cython.declare(cython.int[:])  # code point → character number (−1: in no pattern)
    _root = cython.declare(cython.int[:])  # character number → the root's child (0: none)
    _first = cython.declare(cython.int[:])  # state → index of its first edge (and state + 1 → past its last)
    _edge_char = cython.declare(cython.int[:])  # edge → character number (sorted within a state)
    _edge_to = cython.declare(cython.int[:])  # edge → child state
    _fail = cython.declare(cython.int[:])  # state → longest proper suffix that is a state
    _pattern = cython.declare(cython.int[:])  # state → the pattern it spells, or −1
    _link = cython.declare(cython.int[:])  # state → nearest suffix state spelling a pattern (0: none)
    _depth = cython.declare(cython.int[:])  # state → length of what it spells

    def __init__(self, patterns: Sequence[str], alias: Mapping[int, str] | None = None):
        chars = sorted({c for p in patterns for c in p})
        number = {c: i for i, c in enumerate(chars)}
        children: list[dict[int, int]] = [{}]
        pattern = [-1]
        depth = [0]
        for index, word in enumerate(patterns):
            if not word:
                raise ValueError(f"pattern {index} is empty")
            state = 0
            for c in word:
                nxt = children[state].get(number[c])
                if nxt is None:
                    nxt = children[state][number[c]] = len(children)
                    children.append({})
                    pattern.append(-1)
                    depth.append(depth[state] + 1)
                state = nxt
            if pattern[state] != -1:
                raise ValueError(f"pattern {index} repeats pattern {pattern[state]}")
            pattern[state] = index
        fail = [0] * len(children)
        link = [0] * len(children)
        queue = deque(children[0].values())
        while queue:  # breadth first: a state's fail and link are known before its children's
            state = queue.popleft()
            for c, child in children[state].items():
                f = fail[state]
                while f and c not in children[f]:
                    f = fail[f]
                fail[child] = children[f].get(c, 0) if state else 0
                link[child] = fail[child] if pattern[fail[child]] != -1 else link[fail[child]]
                queue.append(child)
        first, edge_char, edge_to = array("i"), array("i"), array("i")
        for kids in children:
            first.append(len(edge_char))
            for c in sorted(kids):
                edge_char.append(c)
                edge_to.append(kids[c])
        first.append(len(edge_char))
        codes = {ord(c): i for c, i in number.items()}
        for cp, c in (alias or {}).items():  # a character with an alias is read as that, and only that
            codes[cp] = number.get(c, -1)
        self._top = max(codes, default=0) + 1
        self._number = array("i", [-1]) * self._top
        for cp, i in codes.items():
            self._number[cp] = i
        root = array("i", [0]) * max(1, len(chars))
        for c, child in children[0].items():
            root[c] = child
        self._root, self._first, self._edge_char, self._edge_to = root, first, edge_char, edge_to
        self._fail, self._pattern, self._link = array("i", fail), array("i", pattern), array("i", link)
        self._depth = array("i", depth)

    @cython.cfunc
    @cython.inline
    @cython.boundscheck(False)  # states, edges and character numbers all come from the tables
    @cython.wraparound(False)
    @cython.locals(state=cython.int, c=cython.int, lo=cython.Py_ssize_t, hi=cython.Py_ssize_t,
                   mid=cython.Py_ssize_t)
    @cython.returns(cython.int)
    @cython.exceptval(check=False)  # raises nothing: no error check after each call
    def _step(self, state: int, c: int) -> int:
        """The state after ``state`` reads character number ``c`` (≥ 0)."""
        while state:
            lo, hi = self._first[state], self._first[state + 1]
            while lo < hi:
                mid = (lo + hi) >> 1
                if self._edge_char[mid] < c:
                    lo = mid + 1
                else:
                    hi = mid
            if lo < self._first[state + 1] and self._edge_char[lo] == c:
                return self._edge_to[lo]
            state = self._fail[state]
        return self._root[c]

    @cython.cfunc
    @cython.inline
    @cython.boundscheck(False)
    @cython.wraparound(False)
    @cython.locals(state=cython.int, cp=cython.Py_ssize_t, c=cython.int)
    @cython.returns(cython.int)
    @cython.exceptval(check=False)
    def _read(self, state: int, cp: int) -> int:
        """The state after ``state`` reads code point ``cp`` (the root after a character of no pattern)."""
        c = self._number[cp] if cp < self._top else -1
        return self._step(state, c) if c >= 0 else 0

    @cython.boundscheck(False)
    @cython.wraparound(False)
    @cython.locals(text=str, i=cython.Py_ssize_t, n=cython.Py_ssize_t, state=cython.int, s=cython.int,
                   out=list)
    def find(self, text: str) -> list[tuple[int, int, int]]:
        """``(pattern index, start, end)`` of every occurrence: by end, the longest first."""
        out = []
        state = 0
        n = len(text)
        for i in range(n):
            state = self._read(state, ord(text[i]))
            s = state if self._pattern[state] >= 0 else self._link[state]
            while s:
                out.append((self._pattern[s], i + 1 - self._depth[s], i + 1))
                s = self._link[s]
        return out

    @cython.boundscheck(False)
    @cython.wraparound(False)
    @cython.locals(text=str, i=cython.Py_ssize_t, n=cython.Py_ssize_t, state=cython.int)
    def contains(self, text: str) -> bool:
        """Whether any pattern occurs in ``text``."""
        state = 0
        n = len(text)
        for i in range(n):
            state = self._read(state, ord(text[i]))
            if self._pattern[state] >= 0 or self._link[state]:
                return True
        return False


def build(patterns: Sequence[str], alias: Mapping[int, str] | None = None) -> Automaton | RustAutomaton:
    """The automaton of ``patterns``: compiled C arrays when this module is compiled, else Rust's."""
    return Automaton(patterns, alias) if COMPILED else RustAutomaton(patterns, alias)
