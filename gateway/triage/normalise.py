"""Text normalisation for recogniser output: traditional → simplified, fillers out, pinyin keys.

Everything expensive (the OpenCC converter, the filler pattern, the pinyin table) is built once
by :class:`Normaliser`; :meth:`Normaliser.text` and :meth:`Normaliser.pinyin_key` are then pure.
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
import tempfile
import unicodedata
from collections.abc import Iterable
from pathlib import Path

import opencc
from pypinyin import Style, lazy_pinyin
from pypinyin.pinyin_dict import pinyin_dict

from gateway.triage.automaton import Automaton, RustAutomaton, build

try:
    import cython  # resolved by the compiler when this module is compiled (setup.py)
except ImportError:  # plain Python without Cython installed
    from gateway.triage import _shadow as cython

# Private-use code points stand for toneless syllables, so a pinyin key has exactly one
# character per input character and match positions carry over unchanged.
_PUA_BASE = 0xE000
_PUNCT = "，。！？、；：“”‘’（）《》【】,.!?;:'\"()[]<>…—~-·/\\|*#@&%$^_=+`"


@cython.locals(text=str, drop=bytes, top=cython.Py_ssize_t, n=cython.Py_ssize_t, i=cython.Py_ssize_t,
               start=cython.Py_ssize_t, cp=cython.Py_ssize_t)
def _strip(text: str, drop: bytes) -> str:
    """``text`` without the characters whose code point is set in ``drop``; a lone surrogate (no
    valid Unicode) raises UnicodeEncodeError. One compiled pass in place of split, join and a
    regular expression (as plain Python those are faster, and are used)."""
    parts = []
    top = len(drop)
    n = len(text)
    start = 0
    for i in range(n):
        cp = ord(text[i])
        if 0xD800 <= cp <= 0xDFFF:
            raise UnicodeEncodeError("utf-8", text, i, i + 1, "surrogates not allowed")
        if cp < top and drop[cp]:
            if i > start:
                parts.append(text[start:i])
            start = i + 1
    if start == 0:
        return text
    parts.append(text[start:n])
    return "".join(parts)


def _toneless(reading: str) -> str:
    stripped = "".join(c for c in unicodedata.normalize("NFD", reading) if not unicodedata.combining(c))
    return stripped.replace("ü", "v").lower()


def _fuzzy(syl: str, init_rules: list[tuple[str, str]], final_rules: list[tuple[str, str]]) -> str:
    for old, new in init_rules:
        if syl.startswith(old):
            syl = new + syl[len(old):]
            break
    for old, new in final_rules:
        if syl.endswith(old):
            syl = syl[: -len(old)] + new
            break
    return syl


def build_pinyin_table(
    initials: Iterable[tuple[str, str]] = (), finals: Iterable[tuple[str, str]] = (),
    syllables: dict[str, str] | None = None,
) -> dict[int, str]:
    """Map each CJK code point to one private-use character per toneless syllable.

    The first (most common) reading of each character is used, the same for lexicon terms and
    for transcripts, so 路等 and 路灯 (lu deng) share a key. ``initials``
    (e.g. ``("zh", "z")``) and ``finals`` (e.g. ``("ing", "in")``) merge sounds a recogniser
    confuses.
    """
    init_rules, final_rules = list(initials), list(finals)
    ids: dict[str, str] = syllables if syllables is not None else {}
    table: dict[int, str] = {}
    for cp, readings in pinyin_dict.items():
        syl = _fuzzy(_toneless(readings.split(",")[0]), init_rules, final_rules)
        key = ids.get(syl)
        if key is None:
            key = ids[syl] = chr(_PUA_BASE + len(ids))
        table[cp] = key
    return table


def _dictionary_files(node: object) -> list[str] | None:
    """The dictionary files an OpenCC config names, or None for a kind not known here."""
    if isinstance(node, list):
        files = []
        for item in node:
            found = _dictionary_files(item)
            if found is None:
                return None
            files += found
        return files
    if not isinstance(node, dict):
        return []
    if "dict" in node:
        return _dictionary_files(node["dict"])
    if node.get("type") == "group":
        return _dictionary_files(node.get("dicts", []))
    if node.get("type") in ("ocd2", "text") and isinstance(node.get("file"), str):
        return [node["file"]]
    return None


@functools.cache
def opencc_changes(config: str) -> frozenset[str] | None:
    """Every dictionary key that an OpenCC config converts to something else.

    OpenCC converts by matching dictionary keys and writing their first value; text in which no
    such key occurs comes out as it went in, so the converter (a few microseconds) can be
    skipped. The keys are read with ``opencc_dict``, which the opencc package ships; if that or
    the config cannot be read, the answer is None and every text is converted.
    """
    try:
        path = Path(config)
        spec = json.loads(path.read_text(encoding="utf-8"))
        files = _dictionary_files([spec.get("normalization", []), spec.get("conversion_chain", [])])
        tool = Path(opencc.__file__).parent / "clib" / "bin" / "opencc_dict"
        if not files or not tool.is_file():
            return None
        keys: set[str] = set()
        with tempfile.TemporaryDirectory() as tmp:
            for i, name in enumerate(files):
                source = path.parent / name
                if source.suffix == ".ocd2":
                    out = Path(tmp) / f"{i}.txt"
                    subprocess.run([str(tool), "-i", str(source), "-o", str(out), "-f", "ocd2", "-t", "text"],
                                   check=True, capture_output=True, timeout=30)
                    source = out
                for line in source.read_text(encoding="utf-8").splitlines():
                    key, _, values = line.partition("\t")
                    if key and values.split(" ")[0] != key:
                        keys.add(key)
    except (OSError, ValueError, subprocess.SubprocessError):
        return None
    return frozenset(keys) if keys else None


class Normaliser:
    """t2s with OpenCC, NFKC, lower case, whitespace/punctuation/filler removal; pinyin keys."""

    def __init__(
        self,
        fillers: Iterable[str] = (),
        initials: Iterable[tuple[str, str]] = (),
        finals: Iterable[tuple[str, str]] = (),
        char_map: dict[str, str] | None = None,
    ):
        self._t2s = opencc.OpenCC("t2s")
        # what OpenCC or char_map would change (set by prepare(); till then every text is converted)
        self._changes: Automaton | RustAutomaton | None = None
        self._char_map = dict(char_map or {})
        # characters OpenCC keeps (著 is also simplified) but callers mean otherwise (着); the
        # table is applied only when one of them is present (str.translate is slow on CJK text)
        self._chars = str.maketrans(char_map or {})
        self._has_mapped = re.compile(f"[{re.escape(''.join(char_map))}]").search if char_map else None
        singles = sorted({f for f in fillers if len(f) == 1})
        multis = sorted({f for f in fillers if len(f) > 1}, key=len, reverse=True)
        alts = [re.escape(m) for m in multis]
        chars = re.escape("".join(singles) + _PUNCT)
        alts.append(rf"[\s{chars}]")
        self._strip = re.compile("|".join(alts))
        # Without multi-character fillers every removal is of one character, so whitespace can go
        # first (str.split's whitespace is the pattern's \s) and the rest with a plain class.
        self._strip_rest = None if multis else re.compile(f"[{chars}]")
        # the same removals as a table by code point, for _strip (whitespace is str.isspace's,
        # which is split's and the pattern's \s: all of it below U+3001)
        dropped = {ord(c) for c in "".join(singles) + _PUNCT}
        dropped |= {cp for cp in range(0x3001) if chr(cp).isspace()}
        self._drop = None if multis else bytes(cp in dropped for cp in range(max(dropped) + 1))
        self._fused = cython.compiled and self._drop is not None  # text() uses _strip
        self._fuzzy = (tuple(initials), tuple(finals))
        self._pinyin: dict[int, str] | None = None

    def prepare(self) -> None:
        """Build the pinyin table now (about 40k entries) rather than on first use, and learn which
        texts OpenCC would change (the others skip it)."""
        if self._changes is None:
            keys = opencc_changes(self._t2s.config)
            if keys is not None:
                self._changes = build(sorted(keys | set(self._char_map)))
        if self._pinyin is None:
            self._syllables: dict[str, str] = {}
            self._pinyin = build_pinyin_table(*self._fuzzy, syllables=self._syllables)

    def phrase_key(self, term: str) -> str:
        """The pinyin key of a lexicon term read as a phrase (pypinyin picks each reading in context)."""
        self.prepare()
        readings = lazy_pinyin(term, style=Style.NORMAL, errors=lambda chars: list(chars))
        if len(readings) != len(term):
            return self.pinyin_key(term)
        init_rules, final_rules = (list(r) for r in self._fuzzy)
        out = []
        for ch, syl in zip(term, readings, strict=True):
            key = self._syllables.get(_fuzzy(syl.replace("ü", "v").lower(), init_rules, final_rules))
            out.append(key if key is not None and ord(ch) in self._pinyin else ch)  # type: ignore[operator]
        return "".join(out)

    def text(self, raw: str) -> str:
        """The form every lexicon term and every transcript is matched in; a text that is no valid
        Unicode (a lone surrogate) raises UnicodeEncodeError, a ValueError."""
        simplified = unicodedata.normalize("NFKC", raw)
        fused = self._fused
        if not fused:
            simplified.encode()  # the check (_strip does it when fused); cheaper than a search
        # text with no key OpenCC changes and no char_map character goes through both unchanged
        if self._changes is None or self._changes.contains(simplified):
            simplified = self._t2s.convert(simplified)
            if self._has_mapped is not None and self._has_mapped(simplified):
                simplified = simplified.translate(self._chars)
        if fused:
            return _strip(simplified.lower(), self._drop)  # type: ignore[arg-type]
        if self._strip_rest is None:
            return self._strip.sub("", simplified.lower())
        return self._strip_rest.sub("", "".join(simplified.lower().split()))

    def term(self, raw: str) -> str:
        """A lexicon term in matching form (fillers are kept: they may be part of a term)."""
        simplified = self._t2s.convert(unicodedata.normalize("NFKC", raw)).translate(self._chars)
        return re.sub(rf"[\s{re.escape(_PUNCT)}]", "", simplified.lower())

    def pinyin_table(self) -> dict[int, str]:
        """Code point → its pinyin key (one private-use character per syllable), for every
        character that has one (:func:`build_pinyin_table`)."""
        self.prepare()
        return self._pinyin  # type: ignore[return-value]

    def pinyin_key(self, text: str) -> str:
        """One private-use character per CJK character (its syllable); others unchanged."""
        return text.translate(self.pinyin_table())
